-- Fan-out (issue #5): a compose checks that the subscribers of an id range are active. Ids are
-- random, so a range of 50,000 subscribers lies on nearly every page of the table: with (status, id)
-- the check is an index-only range scan. The index on (status) alone goes: this one and
-- (status, created_at, id) both serve what it served.

-- DropIndex
DROP INDEX "subscriber_status_idx";

-- CreateIndex
CREATE INDEX "subscriber_status_id_idx" ON "subscriber"("status", "id");
