-- Chunked compose (issue #5): the undelivered matches (delivery_id IS NULL) in subscriber order, so a
-- fan-out is split into subscriber-id ranges and the matches of each range are range-scanned. Lookups by
-- delivery_id use the same index.

-- DropIndex
DROP INDEX "match_delivery_id_idx";

-- CreateIndex
CREATE INDEX "match_delivery_id_subscriber_id_idx" ON "match"("delivery_id", "subscriber_id");

