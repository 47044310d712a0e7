-- Matching (issue #3): term_stat's keys are stems, so a change to the text analysis (the stemmer)
-- makes the stored statistics stale. collection_stat records which analysis made them, and the
-- matching job counts both tables again from the stored papers when it is older than the running
-- code's (CollectionStatsRepository.ensureCurrent). Rows made before this column existed are version 1.

-- AlterTable
ALTER TABLE "collection_stat" ADD COLUMN     "analyzer_version" INTEGER NOT NULL DEFAULT 1;
