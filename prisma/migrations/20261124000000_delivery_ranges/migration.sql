-- Delivery ranges (issue #5, fan-out at a million subscribers): a delivery no longer writes its
-- matches. Every match gets a seq (its order of arrival), and a delivery carries the subscriber's
-- matches with seq in (after_seq, through_seq]. The undelivered matches of a subscriber are those above
-- the highest through_seq of their deliveries. Composing a delivery is then one row insert, where it
-- was one insert plus a rewrite of every match row it carried.
--
-- Writers of seqs (the matching fan-out, an admin cancel that returns papers to the pool) take the
-- compose lock (advisory lock 7231001) exclusively and composes take it shared, so a compose never
-- sees a seq below one still being written (sequences are not transactional). Composes may run side
-- by side: two that carry the same matches of a subscriber would end at the same seq, which the
-- unique (subscriber_id, through_seq) refuses.
--
-- The delivery to subscriber foreign key goes: its per-row check was half the cost of writing a
-- million deliveries. The trigger below keeps what the key gave (deleting a subscriber deletes their
-- deliveries), and takes the compose lock so that a compose that read the subscriber cannot commit a
-- delivery after the deletion.

-- DropForeignKey
ALTER TABLE "delivery" DROP CONSTRAINT "delivery_subscriber_id_fkey";

-- Seqs for existing matches: per subscriber, the matches of older deliveries first and the
-- undelivered ones last, so each delivery holds one contiguous range of its subscriber.
ALTER TABLE "match" ADD COLUMN "seq" BIGINT;
CREATE SEQUENCE "match_seq_seq" OWNED BY "match"."seq";
UPDATE "match" m SET "seq" = o.n
FROM (SELECT subscriber_id, paper_id, row_number() OVER (ORDER BY delivery_id NULLS LAST, subscriber_id, paper_id) AS n FROM "match") o
WHERE o.subscriber_id = m.subscriber_id AND o.paper_id = m.paper_id;
SELECT setval('"match_seq_seq"', coalesce(max("seq"), 0) + 1, false) FROM "match";
ALTER TABLE "match" ALTER COLUMN "seq" SET DEFAULT nextval('"match_seq_seq"'), ALTER COLUMN "seq" SET NOT NULL;

ALTER TABLE "delivery" ADD COLUMN "after_seq" BIGINT NOT NULL DEFAULT 0,
ADD COLUMN "through_seq" BIGINT NOT NULL DEFAULT 0;
UPDATE "delivery" d SET "after_seq" = r.lo - 1, "through_seq" = r.hi
FROM (SELECT delivery_id, min("seq") AS lo, max("seq") AS hi FROM "match" WHERE delivery_id IS NOT NULL GROUP BY delivery_id) r
WHERE r.delivery_id = d.id;
-- A delivery that carries no match (its papers went back to the pool) gets an empty range of its
-- own below every seq, so that through_seq stays unique per subscriber.
UPDATE "delivery" d SET "after_seq" = -d.id, "through_seq" = -d.id
WHERE NOT EXISTS (SELECT 1 FROM "match" m WHERE m.delivery_id = d.id);
ALTER TABLE "delivery" ALTER COLUMN "after_seq" DROP DEFAULT, ALTER COLUMN "through_seq" DROP DEFAULT;

-- DropForeignKey
ALTER TABLE "match" DROP CONSTRAINT "match_delivery_id_fkey";

-- DropIndex
DROP INDEX "match_delivery_id_subscriber_id_idx";

-- DropIndex
DROP INDEX "delivery_subscriber_id_id_idx";

-- AlterTable
ALTER TABLE "match" DROP COLUMN "delivery_id";

-- CreateIndex
CREATE INDEX "match_subscriber_id_seq_idx" ON "match"("subscriber_id", "seq");

-- CreateIndex
CREATE UNIQUE INDEX "delivery_subscriber_id_through_seq_key" ON "delivery"("subscriber_id", "through_seq");

-- A deleted subscriber takes their deliveries along (what the foreign key did). The body is an
-- escaped string (\073 is a semicolon): the migration runner splits scripts at every semicolon.
CREATE FUNCTION "subscriber_delete_deliveries"() RETURNS trigger LANGUAGE plpgsql AS
E'BEGIN PERFORM pg_advisory_xact_lock(7231001)\073 DELETE FROM "delivery" WHERE subscriber_id = OLD.id\073 RETURN OLD\073 END';
CREATE TRIGGER "subscriber_delete_deliveries" BEFORE DELETE ON "subscriber"
FOR EACH ROW EXECUTE FUNCTION "subscriber_delete_deliveries"();
