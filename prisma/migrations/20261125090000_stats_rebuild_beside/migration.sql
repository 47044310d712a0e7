-- Matching (issue #3): the statistics are counted again beside the live ones (term_stat_next and
-- the next_* counters), so that ingestion waits only for the final copy, not for the whole count
-- (CollectionStatsRepository.rebuild). While `rebuilding` is set, writers add their changes to both.

-- AlterTable
ALTER TABLE "collection_stat" ADD COLUMN     "next_abstract_tokens" BIGINT NOT NULL DEFAULT 0,
ADD COLUMN     "next_doc_count" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "next_title_tokens" BIGINT NOT NULL DEFAULT 0,
ADD COLUMN     "rebuilding" BOOLEAN NOT NULL DEFAULT false;

-- CreateTable
CREATE TABLE "term_stat_next" (
    "term" TEXT NOT NULL,
    "df" INTEGER NOT NULL,

    CONSTRAINT "term_stat_next_pkey" PRIMARY KEY ("term")
);
