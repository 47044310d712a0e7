-- Subscriber self-service (issue #4): subscribe requests, consent records, hashed suppression, pause.

-- AlterTable
ALTER TABLE "subscriber" ADD COLUMN     "paused_until" TIMESTAMPTZ(3);

-- CreateTable
CREATE TABLE "subscription_request" (
    "id" UUID NOT NULL,
    "email" TEXT NOT NULL,
    "topics" TEXT[],
    "frequency" "frequency" NOT NULL,
    "timezone" TEXT NOT NULL,
    "send_hour" INTEGER NOT NULL,
    "source" TEXT NOT NULL,
    "form_version" TEXT NOT NULL,
    "ip" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "confirm_sent_at" TIMESTAMPTZ(3),
    "outcome" TEXT,
    "confirmed_at" TIMESTAMPTZ(3),

    CONSTRAINT "subscription_request_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "consent_record" (
    "id" SERIAL NOT NULL,
    "subscriber_id" UUID NOT NULL,
    "action" TEXT NOT NULL,
    "topics" TEXT[],
    "source" TEXT NOT NULL,
    "form_version" TEXT,
    "ip" TEXT,
    "requested_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "consent_record_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "suppression" (
    "email_hash" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "suppression_pkey" PRIMARY KEY ("email_hash")
);

-- CreateIndex
CREATE INDEX "subscription_request_email_confirm_sent_at_idx" ON "subscription_request"("email", "confirm_sent_at");

-- CreateIndex
CREATE INDEX "subscription_request_created_at_idx" ON "subscription_request"("created_at");

-- CreateIndex
CREATE INDEX "consent_record_subscriber_id_idx" ON "consent_record"("subscriber_id");

-- AddForeignKey
ALTER TABLE "consent_record" ADD CONSTRAINT "consent_record_subscriber_id_fkey" FOREIGN KEY ("subscriber_id") REFERENCES "subscriber"("id") ON DELETE CASCADE ON UPDATE CASCADE;
