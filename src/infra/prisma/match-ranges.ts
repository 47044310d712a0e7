import { Prisma } from '../../generated/prisma/client';

/**
 * Which matches a delivery carries, in SQL (see the 20261124000000_delivery_ranges migration).
 *
 * Every match has a `seq`, its order of arrival. A delivery carries its subscriber's matches with
 * seq in (after_seq, through_seq]; a subscriber's matches above the highest through_seq of their
 * deliveries are undelivered. Composing a delivery is therefore one row insert and never rewrites
 * the matches it carries.
 *
 * Sequences are not transactional: a seq can commit after a higher one. So whoever writes seqs
 * (new matches, papers returned to the pool, and the subscriber-deletion trigger, which deletes
 * deliveries a compose that read the subscriber must not recreate afterwards) holds the compose
 * lock exclusively for its transaction, and a compose holds it shared: it never sees a seq below one
 * still being written. Composes run side by side (the chunks of one compose, on several
 * connections, and other composes): two composes that read the same undelivered matches of a
 * subscriber would write deliveries ending at the same seq, which the unique (subscriber_id,
 * through_seq) refuses, so the later one fails (composeRange retries it) instead of carrying a
 * match twice.
 */
export const COMPOSE_LOCK = 7231001;

/** Held by a compose transaction: no seq is being written meanwhile. */
export const composeLock = Prisma.sql`SELECT pg_advisory_xact_lock_shared(${COMPOSE_LOCK}::bigint)::text`;

/** Held by a transaction that writes match seqs or deletes subscribers (taken first, before any row lock). */
export const seqWriterLock = Prisma.sql`SELECT pg_advisory_xact_lock(${COMPOSE_LOCK}::bigint)::text`;

/** The highest seq a delivery of subscriber `subscriberId` carries (0: none); their matches above it are undelivered. */
export function deliveredThrough(subscriberId: Prisma.Sql): Prisma.Sql {
  return Prisma.sql`coalesce((SELECT max(dt.through_seq) FROM delivery dt WHERE dt.subscriber_id = ${subscriberId}), 0)`;
}

/** The matches (alias `m`) of subscriber `subscriberId` that are undelivered. */
export function undelivered(subscriberId: Prisma.Sql): Prisma.Sql {
  return Prisma.sql`m.subscriber_id = ${subscriberId} AND m.seq > ${deliveredThrough(subscriberId)}`;
}

/** The matches (alias `m`) that the delivery with alias `d` carries. */
export function carriedBy(d: string): Prisma.Sql {
  const alias = Prisma.raw(d);
  return Prisma.sql`m.subscriber_id = ${alias}.subscriber_id AND m.seq > ${alias}.after_seq AND m.seq <= ${alias}.through_seq`;
}
