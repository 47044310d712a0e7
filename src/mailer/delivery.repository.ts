import { Injectable } from '@nestjs/common';
import { Prisma } from '../generated/prisma/client';
import { PrismaService } from '../infra/prisma/prisma.service';
import { carriedBy, composeLock, deliveredThrough } from '../infra/prisma/match-ranges';
import type { RowRef } from '../infra/queue/queues';
import { retryOnUniqueViolation } from '../infra/prisma/errors';

export interface DeliveryContent {
  id: number;
  issueKey: string;
  attempts: number;
  subscriber: { id: string; email: string; status: string; pausedUntil: Date | null };
  papers: {
    title: string;
    abstract: string;
    url: string | null;
    arxivId: string | null;
    authors: string[];
    pdfUrl: string | null;
    codeUrl: string | null;
    projectUrl: string | null;
    upvotes: number | null;
    digestDate: Date;
    score: number;
    why: string;
    topics: string[];
  }[];
}

/** A delivery this worker has just claimed (`skipped`: the claim found the subscriber gone or paused, and says why). */
export interface ClaimedDelivery extends DeliveryContent {
  createdAt: Date;
  skipped: string | null;
}

type RawPaper = Omit<DeliveryContent['papers'][number], 'digestDate'> & { digestDate: string };

/**
 * Which subscribers a compose gathers undelivered matches for, and under which issue key (the
 * delivery is unique per subscriber and issue key, so composing twice never duplicates):
 * - `digest`: instant subscribers, after a digest was matched (key `digest-<id>`);
 * - `due`: daily and weekly subscribers whose local send hour (in their IANA time zone) has come
 *   at `now` (key `daily-YYYY-MM-DD` / `weekly-YYYY-Www` of their local calendar);
 * - `now`: an admin's "send now" to everyone, one subscriber, or the subscribers of one digest.
 */
export type ComposeScope =
  | { kind: 'digest'; digestId: number }
  | { kind: 'due'; now: Date }
  | { kind: 'now'; issueKey: string; subscriberId?: string; digestId?: number };

/** Subscribers composed per transaction unless configured (COMPOSE_CHUNK_SIZE). */
export const DEFAULT_COMPOSE_CHUNK = 50_000;

/** Chunk transactions of one compose in flight at once unless configured (COMPOSE_CONCURRENCY). */
export const DEFAULT_COMPOSE_CONCURRENCY = 2;

/** `AND col > after AND col <= upTo` for each column (nothing for an unbounded side). */
function subscriberRange(after: string | null, upTo: string | null, cols: Prisma.Sql[]): Prisma.Sql {
  const conds = cols.flatMap((col) => [
    ...(after === null ? [] : [Prisma.sql`${col} > ${after}::uuid`]),
    ...(upTo === null ? [] : [Prisma.sql`${col} <= ${upTo}::uuid`]),
  ]);
  return conds.length ? Prisma.sql`AND ${Prisma.join(conds, ' AND ')}` : Prisma.empty;
}

/** The daily and weekly subscribers (alias `s`, active) whose local send hour has come at `now`. */
export function cadenceDue(now: Date): Prisma.Sql {
  const local = Prisma.sql`(${now}::timestamptz AT TIME ZONE s.timezone)`;
  return Prisma.sql`s.status = 'active' AND s.frequency IN ('daily', 'weekly')
    AND extract(hour FROM ${local}) >= s.send_hour
    AND (s.frequency = 'daily' OR extract(isodow FROM ${local}) = s.send_weekday)`;
}

/** Their issue key at `now`: `daily-YYYY-MM-DD` or `weekly-YYYY-Www` of their local calendar. */
export function cadenceIssueKey(now: Date): Prisma.Sql {
  const local = Prisma.sql`(${now}::timestamptz AT TIME ZONE s.timezone)`;
  return Prisma.sql`CASE s.frequency
    WHEN 'daily' THEN 'daily-' || to_char(${local}, 'YYYY-MM-DD')
    ELSE 'weekly-' || to_char(${local}, 'IYYY-"W"IW')
  END`;
}

/** A digest or "now" scope's conditions on its matches (alias `m`): of the digest, of the subscriber. */
function scopeMatches(scope: Exclude<ComposeScope, { kind: 'due' }>): Prisma.Sql[] {
  const digestId = scope.kind === 'digest' ? scope.digestId : (scope.digestId ?? null);
  const conds: Prisma.Sql[] = [];
  if (digestId !== null) conds.push(Prisma.sql`m.digest_id = ${digestId}::int`);
  if (scope.kind === 'now' && scope.subscriberId != null) conds.push(Prisma.sql`m.subscriber_id = ${scope.subscriberId}::uuid`);
  return conds;
}

/** What an email shows of a paper (alias `p`), as json_build_object arguments. */
const PAPER_FIELDS = Prisma.sql`'title', p.title, 'abstract', p.abstract, 'url', p.url, 'arxivId', p.arxiv_id, 'authors', p.authors,
  'pdfUrl', p.pdf_url, 'codeUrl', p.code_url, 'projectUrl', p.project_url, 'upvotes', p.upvotes`;
/** What it shows of the match (aliases `m`, and `g` for its digest). */
const MATCH_FIELDS = Prisma.sql`'digestDate', g.digest_date, 'score', m.score, 'why', m.why, 'topics', m.topics`;

/**
 * What an email shows of each matched paper, best first, as one JSON text: the matches that
 * `where` selects (alias `m`). The one definition of an email's papers: the "and N more" page and
 * the admin's preview of unsent matches read it (parse with parsePapers), and the sender's claim
 * reads the same fields through matchedPaperRefsJson and the paper cache.
 */
export function matchedPapersJson(where: Prisma.Sql): Prisma.Sql {
  return matchesJson(Prisma.sql`${PAPER_FIELDS}, ${MATCH_FIELDS}`, where);
}

/**
 * matchedPapersJson with each paper as a reference: its id and row version (`xmin`, new with every
 * update of the row) in place of its fields, which the sender takes from its PaperCache.
 */
function matchedPaperRefsJson(where: Prisma.Sql): Prisma.Sql {
  return matchesJson(Prisma.sql`'paperId', m.paper_id, 'version', p.xmin::text, ${MATCH_FIELDS}`, where);
}

/** The matches `where` selects, best first, one JSON object of `fields` each, as one JSON text. */
function matchesJson(fields: Prisma.Sql, where: Prisma.Sql): Prisma.Sql {
  return Prisma.sql`(
    SELECT json_agg(json_build_object(${fields}) ORDER BY m.score DESC, m.paper_id ASC)::text
    FROM match m JOIN paper p ON p.id = m.paper_id JOIN digest g ON g.id = m.digest_id
    WHERE ${where})`;
}

type PaperFields = Omit<DeliveryContent['papers'][number], 'digestDate' | 'score' | 'why' | 'topics'>;
type PaperRef = Pick<RawPaper, 'digestDate' | 'score' | 'why' | 'topics'> & { paperId: number; version: string };

/**
 * The papers a worker has shown lately, by id and row version: every recipient of a digest gets
 * cards from the same few hundred papers, so the claim sends references instead of ~2 KB of text
 * per card, and a paper's fields are read and parsed once per worker. A paper updated since gets a
 * new version, so an entry is never used stale; the oldest entries go first past `max`.
 */
export class PaperCache {
  private readonly entries = new Map<number, { version: string; paper: PaperFields }>();

  constructor(private readonly max: number) {}

  get(id: number, version: string): PaperFields | undefined {
    const e = this.entries.get(id);
    return e !== undefined && e.version === version ? e.paper : undefined;
  }

  set(id: number, version: string, paper: PaperFields): void {
    if (!this.entries.delete(id) && this.entries.size >= this.max) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(id, { version, paper });
  }

  get size(): number {
    return this.entries.size;
  }
}

/** Papers kept per worker process (~2.5 KB each). */
const PAPER_CACHE_SIZE = 5000;

export function parsePapers(json: string | null): DeliveryContent['papers'] {
  return json ? (JSON.parse(json) as RawPaper[]).map((p) => ({ ...p, digestDate: new Date(p.digestDate) })) : [];
}

@Injectable()
export class DeliveryRepository {
  readonly papers = new PaperCache(PAPER_CACHE_SIZE);

  constructor(private readonly prisma: PrismaService) {}

  /**
   * Splits a compose into subscriber-id ranges of about `chunk` candidate subscribers each:
   * returns the ascending upper bounds b1 < b2 < … (every `chunk`-th candidate id), so the ranges
   * are (−∞, b1], (b1, b2], …, (bk, +∞). The candidates are a cheap superset of the due subscribers
   * (not checked for undelivered matches: that is the chunk's work), so a chunk may compose fewer.
   * One pass over the candidates in id order (streamed from an index where the scope allows, sorted
   * otherwise); no bounds (one open range) when fewer than `chunk`.
   */
  async composeBounds(scope: ComposeScope, chunk: number): Promise<string[]> {
    const rows = await this.prisma.$queryRaw<{ bound: string }[]>`
      SELECT subscriber_id::text AS bound FROM (
        SELECT subscriber_id, row_number() OVER (ORDER BY subscriber_id) AS rn FROM (${this.candidateSubscribers(scope)}) candidates
      ) numbered
      WHERE rn % ${chunk}::int = 0 ORDER BY rn`;
    return rows.map((r) => r.bound);
  }

  /**
   * Composes the due subscribers whose id is in (after, upTo] (null: unbounded) in one
   * transaction of one set-based statement: one delivery per due subscriber, carrying all their
   * undelivered matches as the seq range (after_seq, through_seq] (counted in paper_count). No
   * match row is written. The compose lock, held shared, keeps seq writers out meanwhile; another
   * compose carrying the same matches first makes this one compose again (match-ranges.ts).
   * Idempotent per range: the delivery is unique per (subscriber, issue key), and a subscriber whose
   * matches are carried is no longer due. Returns the pending deliveries it wrote or extended
   * (ascending id).
   */
  async composeRange(scope: ComposeScope, after: string | null, upTo: string | null): Promise<RowRef[]> {
    // Another compose carried some of these subscribers' matches first: compose again from what is
    // now undelivered.
    return retryOnUniqueViolation(5, ['delivery_subscriber_id_through_seq_key'], () => this.composeRangeOnce(scope, after, upTo));
  }

  private async composeRangeOnce(scope: ComposeScope, after: string | null, upTo: string | null): Promise<RowRef[]> {
    return this.prisma.$transaction(
      async (tx) => {
        await tx.$queryRaw(composeLock);
        // Index scans only: a large compose writes deliveries much faster than the statistics
        // follow, and a plan made for an "empty" delivery table would look up each subscriber's
        // latest delivery by scanning every row this compose has written so far.
        await tx.$executeRaw`SET LOCAL enable_seqscan = off`;
        // A chunk's sorts and hashes (≈ 2 rows per subscriber) fit in memory instead of spilling.
        await tx.$executeRaw`SET LOCAL work_mem = '64MB'`;
        // A subscriber's pending delivery for the same issue is extended with the new matches if
        // it is their latest (its range ends where the undelivered ones begin); once it has gone
        // out, new matches wait for the subscriber's next issue.
        const rows = await tx.$queryRaw<{ id: number; createdAt: Date }[]>`
          WITH due AS (${this.dueSubscribers(scope, after, upTo)}),
          pool AS (
            SELECT due.subscriber_id, due.issue_key, due.after_seq, count(*)::int AS papers, max(m.seq) AS through_seq
            FROM due JOIN match m ON m.subscriber_id = due.subscriber_id AND m.seq > due.after_seq ${subscriberRange(after, upTo, [Prisma.sql`m.subscriber_id`])}
            GROUP BY due.subscriber_id, due.issue_key, due.after_seq
          )
          INSERT INTO delivery (subscriber_id, issue_key, paper_count, after_seq, through_seq)
          SELECT subscriber_id, issue_key, papers, after_seq, through_seq FROM pool ORDER BY subscriber_id
          ON CONFLICT (subscriber_id, issue_key) DO UPDATE
            SET paper_count = delivery.paper_count + excluded.paper_count, through_seq = excluded.through_seq
            WHERE delivery.status = 'pending' AND delivery.through_seq = excluded.after_seq
          RETURNING delivery.id, delivery.created_at AS "createdAt"`;
        return rows.sort((a, b) => a.id - b.id);
      },
      { timeout: 120_000 },
    );
  }

  /**
   * Composes a scope chunk by chunk (see composeBounds and composeRange), up to `parallel` chunk
   * transactions at a time, and yields each chunk's pending deliveries in range order right after
   * its transaction committed, so the caller can queue them while the next chunks run (with
   * `parallel` = 1, strictly one after the other). A crash between chunks loses nothing: committed
   * chunks are pending rows that the reconciler re-queues, and a re-run composes only what is still
   * undelivered.
   */
  async *composeChunks(scope: ComposeScope, chunk: number, parallel = 1): AsyncGenerator<RowRef[]> {
    const bounds = await this.composeBounds(scope, chunk);
    const ranges = [...bounds, null].map((upTo, i) => [i === 0 ? null : bounds[i - 1], upTo] as const);
    const running: Promise<RowRef[]>[] = [];
    let next = 0;
    const startNext = () => {
      if (next >= ranges.length) return;
      const [after, upTo] = ranges[next++];
      const chunkDone = this.composeRange(scope, after, upTo);
      chunkDone.catch(() => undefined); // awaited in order below, where a failure surfaces
      running.push(chunkDone);
    };
    for (let i = 0; i < parallel; i++) startNext();
    while (running.length) {
      yield await running.shift()!;
      startNext(); // after the caller queued that chunk: at most `parallel` transactions in flight
    }
  }

  /**
   * Creates one delivery per due subscriber with undelivered matches, carrying those matches, in
   * transactions of at most `chunk` subscribers (set-based statements: the cost grows
   * with matches, not with a loop over subscribers). Returns the pending deliveries it wrote
   * (ascending id); a repeated compose adds nothing.
   */
  async compose(scope: ComposeScope, chunk = DEFAULT_COMPOSE_CHUNK): Promise<RowRef[]> {
    const all: RowRef[] = [];
    for await (const rows of this.composeChunks(scope, chunk)) all.push(...rows);
    return all;
  }

  /**
   * A superset of the scope's due subscribers (their ids; see composeBounds). "Send now" to everyone
   * takes the active subscribers, in id order from the (status, id) index: reading the distinct
   * subscribers of every match ever made costs more and grows with the history.
   */
  private candidateSubscribers(scope: ComposeScope): Prisma.Sql {
    if (scope.kind === 'due') return Prisma.sql`SELECT s.id AS subscriber_id FROM subscriber s WHERE ${cadenceDue(scope.now)}`;
    const conds = scopeMatches(scope);
    if (conds.length === 0) return Prisma.sql`SELECT s.id AS subscriber_id FROM subscriber s WHERE s.status = 'active'`;
    return Prisma.sql`SELECT DISTINCT m.subscriber_id FROM match m WHERE ${Prisma.join(conds, ' AND ')}`;
  }

  /**
   * The scope's due subscribers (subscriber_id, issue_key, after_seq: where their undelivered
   * matches begin), one row each and only those with undelivered matches (of the digest, if the
   * scope names one), optionally only those with an id in (after, upTo]. The range is stated on
   * both sides of a join so that either index (match by (subscriber_id, seq), subscriber by id)
   * can be range-scanned.
   */
  private dueSubscribers(scope: ComposeScope, after: string | null, upTo: string | null): Prisma.Sql {
    const range = (...cols: Prisma.Sql[]) => subscriberRange(after, upTo, cols);
    if (scope.kind === 'due') {
      return Prisma.sql`
        SELECT s.id AS subscriber_id, ${cadenceIssueKey(scope.now)} AS issue_key, w.after_seq
        FROM subscriber s CROSS JOIN LATERAL (SELECT ${deliveredThrough(Prisma.sql`s.id`)} AS after_seq) w
        WHERE ${cadenceDue(scope.now)}
          AND EXISTS (SELECT 1 FROM match m WHERE m.subscriber_id = s.id AND m.seq > w.after_seq)
          ${range(Prisma.sql`s.id`)}`;
    }
    // digest and now: from the matches (the digest's, through its index), newest seq per subscriber.
    const issueKey = scope.kind === 'digest' ? `digest-${scope.digestId}` : scope.issueKey;
    const conds: Prisma.Sql[] = [Prisma.sql`s.status = 'active'`, ...scopeMatches(scope)];
    if (scope.kind === 'digest') conds.push(Prisma.sql`s.frequency = 'instant'`);
    return Prisma.sql`
      SELECT x.subscriber_id, ${issueKey}::text AS issue_key, x.after_seq FROM (
        SELECT m.subscriber_id, max(m.seq) AS top, ${deliveredThrough(Prisma.sql`m.subscriber_id`)} AS after_seq
        FROM match m JOIN subscriber s ON s.id = m.subscriber_id
        WHERE ${Prisma.join(conds, ' AND ')} ${range(Prisma.sql`m.subscriber_id`, Prisma.sql`s.id`)}
        GROUP BY m.subscriber_id
      ) x
      WHERE x.top > x.after_seq`;
  }

  /**
   * The conditional claim, for a whole group in one statement: only one worker can move a
   * delivery from pending/retry to sending (BullMQ may run a job twice; the database decides who
   * sends). A delivery whose subscriber left or paused after it was queued becomes `skipped` in
   * the same statement. Returns the claimed rows (ascending id) with what the email shows: the
   * subscriber and the matched papers, best first (matchedPapersJson's fields; the papers' own
   * through the paper cache, one more statement for those it lacks).
   */
  async claimBatch(ids: number[]): Promise<ClaimedDelivery[]> {
    if (ids.length === 0) return [];
    const rows = await this.prisma.$queryRaw<
      { id: number; issueKey: string; attempts: number; createdAt: Date; status: string; skip: string | null; subscriberId: string; email: string; subscriberStatus: string; pausedUntil: Date | null; papers: string | null }[]
    >`
      WITH claimed AS (
        UPDATE delivery d
        SET status = CASE WHEN s.status <> 'active' OR s.paused_until > now() THEN 'skipped'::delivery_status ELSE 'sending'::delivery_status END,
            attempts = d.attempts + 1,
            claimed_at = now(),
            last_error = CASE WHEN s.status <> 'active' THEN 'subscriber is ' || s.status::text
                              WHEN s.paused_until > now() THEN 'subscriber is paused'
                              ELSE d.last_error END
        FROM subscriber s
        WHERE d.id = ANY(${ids}::int[]) AND d.status IN ('pending', 'retry') AND s.id = d.subscriber_id
        RETURNING d.id, d.issue_key, d.attempts, d.created_at, d.status, d.last_error, d.after_seq, d.through_seq, s.id AS subscriber_id, s.email, s.status AS subscriber_status, s.paused_until
      )
      SELECT c.id, c.issue_key AS "issueKey", c.attempts, c.created_at AS "createdAt", c.status::text AS status,
             CASE WHEN c.status = 'skipped' THEN c.last_error END AS skip,
             c.subscriber_id::text AS "subscriberId", c.email, c.subscriber_status::text AS "subscriberStatus", c.paused_until AS "pausedUntil",
             CASE WHEN c.status = 'sending' THEN ${matchedPaperRefsJson(carriedBy('c'))} END AS papers
      FROM claimed c ORDER BY c.id`;
    const refs = rows.map((r) => (r.papers ? (JSON.parse(r.papers) as PaperRef[]) : []));
    const papers = await this.resolvePapers(refs);
    return rows.map((r, i) => ({
      id: r.id,
      issueKey: r.issueKey,
      attempts: r.attempts,
      createdAt: r.createdAt,
      skipped: r.status === 'skipped' ? (r.skip ?? 'subscriber is not active') : null,
      subscriber: { id: r.subscriberId, email: r.email, status: r.subscriberStatus, pausedUntil: r.pausedUntil },
      papers: papers[i],
    }));
  }

  /**
   * The papers behind claimed references: from the cache, the others read in one statement. A
   * paper updated between the claim and that read shows its newer fields; one deleted meanwhile
   * (its match went with it) is left out.
   */
  private async resolvePapers(refs: PaperRef[][]): Promise<DeliveryContent['papers'][]> {
    const missing = new Set<number>();
    for (const list of refs) for (const ref of list) if (this.papers.get(ref.paperId, ref.version) === undefined) missing.add(ref.paperId);
    const read = new Map<number, PaperFields>();
    if (missing.size > 0) {
      const rows = await this.prisma.$queryRaw<{ id: number; version: string; paper: string }[]>`
        SELECT p.id, p.xmin::text AS version, json_build_object(${PAPER_FIELDS})::text AS paper FROM paper p WHERE p.id = ANY(${[...missing]}::int[])`;
      for (const row of rows) {
        const paper = JSON.parse(row.paper) as PaperFields;
        this.papers.set(row.id, row.version, paper);
        read.set(row.id, paper);
      }
    }
    return refs.map((list) => {
      const papers: DeliveryContent['papers'] = [];
      for (const ref of list) {
        const p = this.papers.get(ref.paperId, ref.version) ?? read.get(ref.paperId);
        if (p === undefined) continue;
        // spelled out (not a spread): one object shape for every card, built for each reader
        papers.push({
          title: p.title,
          abstract: p.abstract,
          url: p.url,
          arxivId: p.arxivId,
          authors: p.authors,
          pdfUrl: p.pdfUrl,
          codeUrl: p.codeUrl,
          projectUrl: p.projectUrl,
          upvotes: p.upvotes,
          digestDate: new Date(ref.digestDate),
          score: ref.score,
          why: ref.why,
          topics: ref.topics,
        });
      }
      return papers;
    });
  }

  /**
   * Records many `sent` outcomes in one statement (and ends their subscribers' soft-bounce runs).
   * The sender buffers outcomes and flushes every few dozen sends or ~50 ms.
   */
  async recordSent(rows: { id: number; messageId: string; smtpResponse: string }[]): Promise<void> {
    if (rows.length === 0) return;
    await this.prisma.$executeRaw`
      WITH sent AS (
        UPDATE delivery d SET status = 'sent', message_id = u.message_id, smtp_response = u.smtp_response, sent_at = now()
        FROM unnest(${rows.map((r) => r.id)}::int[], ${rows.map((r) => r.messageId)}::text[], ${rows.map((r) => r.smtpResponse)}::text[]) AS u(id, message_id, smtp_response)
        WHERE d.id = u.id
        RETURNING d.subscriber_id
      )
      UPDATE subscriber s SET soft_bounces = 0, updated_at = now()
      WHERE s.id IN (SELECT subscriber_id FROM sent) AND s.soft_bounces > 0`;
  }

  /**
   * A failed attempt: `retry` or `failed`. `refundAttempt` (a 421 "slow down") gives the claim's
   * attempt back: the server's load is not the recipient's fault.
   */
  async recordFailure(id: number, status: 'retry' | 'failed', fields: { lastError: string; smtpResponse?: string; refundAttempt?: boolean }): Promise<void> {
    await this.prisma.$executeRaw`
      UPDATE delivery SET status = ${status}::delivery_status, last_error = ${fields.lastError},
        smtp_response = coalesce(${fields.smtpResponse ?? null}::text, smtp_response),
        attempts = CASE WHEN ${fields.refundAttempt ?? false} THEN greatest(attempts - 1, 0) ELSE attempts END
      WHERE id = ${id}`;
  }

  /** A delivery and the papers it carries (the "and N more" page). */
  async content(id: number): Promise<DeliveryContent | undefined> {
    const [d] = await this.prisma.$queryRaw<
      { id: number; issueKey: string; attempts: number; subscriberId: string; email: string; status: string; pausedUntil: Date | null; papers: string | null }[]
    >`
      SELECT d.id, d.issue_key AS "issueKey", d.attempts, s.id::text AS "subscriberId", s.email, s.status::text AS status,
             s.paused_until AS "pausedUntil", ${matchedPapersJson(carriedBy('d'))} AS papers
      FROM delivery d JOIN subscriber s ON s.id = d.subscriber_id
      WHERE d.id = ${id}`;
    if (!d) return undefined;
    return {
      id: d.id,
      issueKey: d.issueKey,
      attempts: d.attempts,
      subscriber: { id: d.subscriberId, email: d.email, status: d.status, pausedUntil: d.pausedUntil },
      papers: parsePapers(d.papers),
    };
  }

  /** Not sent, and never will be (the subscriber left, paused, or nothing was left to send). */
  async recordSkipped(id: number, reason: string): Promise<void> {
    await this.prisma.delivery.update({ where: { id }, data: { status: 'skipped', lastError: reason } });
  }

  /** Deliveries of the given statuses (for the demo's wait and summaries). */
  async countByStatus(): Promise<Record<string, number>> {
    const rows = await this.prisma.delivery.groupBy({ by: ['status'], _count: { _all: true } });
    return Object.fromEntries(rows.map((r) => [r.status, r._count._all]));
  }

  /** Counts one more soft bounce (a delivery that failed on temporary errors); returns the run length. */
  async countSoftBounce(subscriberId: string): Promise<number> {
    const s = await this.prisma.subscriber.update({ where: { id: subscriberId }, data: { softBounces: { increment: 1 } }, select: { softBounces: true } });
    return s.softBounces;
  }

  /**
   * A bounce or complaint reported by the mail provider. Hard bounces suppress the address,
   * complaints unsubscribe it, soft bounces count towards the limit. Returns whether it matched
   * a subscriber and whether the address is now suppressed.
   */
  async applyBounce(email: string, type: 'hard' | 'soft' | 'complaint', softLimit: number): Promise<{ known: boolean; suppressed: boolean }> {
    const rows =
      type === 'hard'
        ? await this.prisma.$queryRaw<{ status: string }[]>`
            UPDATE subscriber SET status = CASE WHEN status = 'active' THEN 'bounced'::subscriber_status ELSE status END
            WHERE email = ${email} RETURNING status::text`
        : type === 'complaint'
          ? await this.prisma.$queryRaw<{ status: string }[]>`
            UPDATE subscriber SET status = CASE WHEN status IN ('active', 'pending') THEN 'unsubscribed'::subscriber_status ELSE status END,
              unsubscribed_at = coalesce(unsubscribed_at, now())
            WHERE email = ${email} RETURNING status::text`
          : await this.prisma.$queryRaw<{ status: string }[]>`
            UPDATE subscriber SET soft_bounces = soft_bounces + 1,
              status = CASE WHEN status = 'active' AND soft_bounces + 1 >= ${softLimit} THEN 'bounced'::subscriber_status ELSE status END
            WHERE email = ${email} RETURNING status::text`;
    if (rows.length === 0) return { known: false, suppressed: false };
    return { known: true, suppressed: rows[0].status !== 'active' };
  }

  /** A permanent SMTP rejection (5xx) suppresses the address: nothing more is sent to it. */
  async suppressSubscriber(subscriberId: string): Promise<void> {
    await this.prisma.subscriber.updateMany({ where: { id: subscriberId, status: 'active' }, data: { status: 'bounced' } });
  }

  async markDigestComposed(digestId: number): Promise<void> {
    await this.prisma.digest.updateMany({ where: { id: digestId, status: 'matched' }, data: { status: 'composed' } });
  }
}
