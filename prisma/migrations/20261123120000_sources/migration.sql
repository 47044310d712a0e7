-- Feed sources (issue #7): fields merged in from several sources, and a record of every pull.

-- AlterTable
ALTER TABLE "paper" ADD COLUMN     "arxiv_version" INTEGER,
ADD COLUMN     "categories" TEXT[] DEFAULT ARRAY[]::TEXT[],
ADD COLUMN     "code_url" TEXT,
ADD COLUMN     "pdf_url" TEXT,
ADD COLUMN     "project_url" TEXT,
ADD COLUMN     "updated_at" TIMESTAMPTZ(3),
ADD COLUMN     "upvotes" INTEGER;

-- CreateTable
CREATE TABLE "source_pull" (
    "id" SERIAL NOT NULL,
    "source" TEXT NOT NULL,
    "trigger" TEXT NOT NULL,
    "attempt" INTEGER NOT NULL DEFAULT 1,
    "range_from" DATE,
    "range_to" DATE,
    "status" TEXT NOT NULL DEFAULT 'running',
    "started_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finished_at" TIMESTAMPTZ(3),
    "digests" INTEGER NOT NULL DEFAULT 0,
    "new_papers" INTEGER NOT NULL DEFAULT 0,
    "updated_papers" INTEGER NOT NULL DEFAULT 0,
    "skipped_papers" INTEGER NOT NULL DEFAULT 0,
    "error" TEXT,

    CONSTRAINT "source_pull_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "source_pull_source_started_at_idx" ON "source_pull"("source", "started_at");
