-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateEnum
CREATE TYPE "subscriber_status" AS ENUM ('pending', 'active', 'unsubscribed', 'suspended', 'bounced');

-- CreateEnum
CREATE TYPE "frequency" AS ENUM ('instant', 'daily', 'weekly');

-- CreateEnum
CREATE TYPE "digest_status" AS ENUM ('ingested', 'matched', 'composed');

-- CreateEnum
CREATE TYPE "delivery_status" AS ENUM ('pending', 'sending', 'retry', 'sent', 'failed', 'skipped', 'unknown');

-- CreateTable
CREATE TABLE "subscriber" (
    "id" UUID NOT NULL,
    "email" TEXT NOT NULL,
    "status" "subscriber_status" NOT NULL DEFAULT 'pending',
    "frequency" "frequency" NOT NULL DEFAULT 'instant',
    "timezone" TEXT NOT NULL DEFAULT 'UTC',
    "send_hour" INTEGER NOT NULL DEFAULT 8,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    "confirmed_at" TIMESTAMPTZ(3),
    "unsubscribed_at" TIMESTAMPTZ(3),
    "consent_source" TEXT,

    CONSTRAINT "subscriber_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "topic" (
    "id" SERIAL NOT NULL,
    "query" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "topic_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "subscriber_topic" (
    "subscriber_id" UUID NOT NULL,
    "topic_id" INTEGER NOT NULL,
    "label" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "subscriber_topic_pkey" PRIMARY KEY ("subscriber_id","topic_id")
);

-- CreateTable
CREATE TABLE "paper" (
    "id" SERIAL NOT NULL,
    "arxiv_id" TEXT,
    "title_key" TEXT NOT NULL,
    "title" TEXT NOT NULL,
    "abstract" TEXT NOT NULL,
    "url" TEXT,
    "authors" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "published_at" DATE,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "paper_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "digest" (
    "id" SERIAL NOT NULL,
    "source" TEXT NOT NULL,
    "digest_date" DATE NOT NULL,
    "content_hash" TEXT NOT NULL,
    "status" "digest_status" NOT NULL DEFAULT 'ingested',
    "paper_count" INTEGER NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "matched_at" TIMESTAMPTZ(3),

    CONSTRAINT "digest_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "digest_paper" (
    "digest_id" INTEGER NOT NULL,
    "paper_id" INTEGER NOT NULL,
    "position" INTEGER NOT NULL,

    CONSTRAINT "digest_paper_pkey" PRIMARY KEY ("digest_id","paper_id")
);

-- CreateTable
CREATE TABLE "topic_match" (
    "digest_id" INTEGER NOT NULL,
    "topic_id" INTEGER NOT NULL,
    "paper_id" INTEGER NOT NULL,
    "score" DOUBLE PRECISION NOT NULL,
    "why" TEXT NOT NULL,

    CONSTRAINT "topic_match_pkey" PRIMARY KEY ("digest_id","topic_id","paper_id")
);

-- CreateTable
CREATE TABLE "match" (
    "subscriber_id" UUID NOT NULL,
    "paper_id" INTEGER NOT NULL,
    "digest_id" INTEGER NOT NULL,
    "score" DOUBLE PRECISION NOT NULL,
    "why" TEXT NOT NULL,
    "topics" TEXT[],
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "delivery_id" INTEGER,

    CONSTRAINT "match_pkey" PRIMARY KEY ("subscriber_id","paper_id")
);

-- CreateTable
CREATE TABLE "delivery" (
    "id" SERIAL NOT NULL,
    "subscriber_id" UUID NOT NULL,
    "issue_key" TEXT NOT NULL,
    "status" "delivery_status" NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "paper_count" INTEGER NOT NULL,
    "message_id" TEXT,
    "smtp_response" TEXT,
    "last_error" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "claimed_at" TIMESTAMPTZ(3),
    "sent_at" TIMESTAMPTZ(3),

    CONSTRAINT "delivery_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "term_stat" (
    "term" TEXT NOT NULL,
    "df" INTEGER NOT NULL,

    CONSTRAINT "term_stat_pkey" PRIMARY KEY ("term")
);

-- CreateTable
CREATE TABLE "collection_stat" (
    "id" INTEGER NOT NULL DEFAULT 1,
    "doc_count" INTEGER NOT NULL DEFAULT 0,
    "title_tokens" BIGINT NOT NULL DEFAULT 0,
    "abstract_tokens" BIGINT NOT NULL DEFAULT 0,

    CONSTRAINT "collection_stat_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "subscriber_email_key" ON "subscriber"("email");

-- CreateIndex
CREATE INDEX "subscriber_status_idx" ON "subscriber"("status");

-- CreateIndex
CREATE UNIQUE INDEX "topic_query_key" ON "topic"("query");

-- CreateIndex
CREATE INDEX "subscriber_topic_topic_id_subscriber_id_idx" ON "subscriber_topic"("topic_id", "subscriber_id");

-- CreateIndex
CREATE UNIQUE INDEX "paper_arxiv_id_key" ON "paper"("arxiv_id");

-- CreateIndex
CREATE UNIQUE INDEX "paper_title_key_key" ON "paper"("title_key");

-- CreateIndex
CREATE UNIQUE INDEX "digest_content_hash_key" ON "digest"("content_hash");

-- CreateIndex
CREATE INDEX "digest_digest_date_idx" ON "digest"("digest_date");

-- CreateIndex
CREATE INDEX "digest_paper_paper_id_idx" ON "digest_paper"("paper_id");

-- CreateIndex
CREATE INDEX "topic_match_topic_id_idx" ON "topic_match"("topic_id");

-- CreateIndex
CREATE INDEX "match_delivery_id_idx" ON "match"("delivery_id");

-- CreateIndex
CREATE INDEX "match_digest_id_idx" ON "match"("digest_id");

-- CreateIndex
CREATE INDEX "delivery_status_idx" ON "delivery"("status");

-- CreateIndex
CREATE UNIQUE INDEX "delivery_subscriber_id_issue_key_key" ON "delivery"("subscriber_id", "issue_key");

-- AddForeignKey
ALTER TABLE "subscriber_topic" ADD CONSTRAINT "subscriber_topic_subscriber_id_fkey" FOREIGN KEY ("subscriber_id") REFERENCES "subscriber"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "subscriber_topic" ADD CONSTRAINT "subscriber_topic_topic_id_fkey" FOREIGN KEY ("topic_id") REFERENCES "topic"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "digest_paper" ADD CONSTRAINT "digest_paper_digest_id_fkey" FOREIGN KEY ("digest_id") REFERENCES "digest"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "digest_paper" ADD CONSTRAINT "digest_paper_paper_id_fkey" FOREIGN KEY ("paper_id") REFERENCES "paper"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "topic_match" ADD CONSTRAINT "topic_match_digest_id_fkey" FOREIGN KEY ("digest_id") REFERENCES "digest"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "topic_match" ADD CONSTRAINT "topic_match_topic_id_fkey" FOREIGN KEY ("topic_id") REFERENCES "topic"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "topic_match" ADD CONSTRAINT "topic_match_paper_id_fkey" FOREIGN KEY ("paper_id") REFERENCES "paper"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "match" ADD CONSTRAINT "match_subscriber_id_fkey" FOREIGN KEY ("subscriber_id") REFERENCES "subscriber"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "match" ADD CONSTRAINT "match_paper_id_fkey" FOREIGN KEY ("paper_id") REFERENCES "paper"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "match" ADD CONSTRAINT "match_digest_id_fkey" FOREIGN KEY ("digest_id") REFERENCES "digest"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "match" ADD CONSTRAINT "match_delivery_id_fkey" FOREIGN KEY ("delivery_id") REFERENCES "delivery"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "delivery" ADD CONSTRAINT "delivery_subscriber_id_fkey" FOREIGN KEY ("subscriber_id") REFERENCES "subscriber"("id") ON DELETE CASCADE ON UPDATE CASCADE;

