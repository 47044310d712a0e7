import { Client } from 'pg';
import { AdminSendsRepository } from '../src/admin/sends/admin-sends.repository';
import { COMPOSE_LOCK } from '../src/infra/prisma/match-ranges';
import { ComposerService } from '../src/mailer/composer.service';
import { DeliveryRepository } from '../src/mailer/delivery.repository';
import { ReconcilerService } from '../src/mailer/reconciler.service';
import { JobProducer } from '../src/infra/queue/job-producer.service';
import type { RowRef } from '../src/infra/queue/queues';
import { seedMatches } from './helpers/seed';
import { startTestApp, TestApp } from './helpers/test-app';
import { createTestDatabase, TestDatabase, withClient } from './helpers/test-db';

/**
 * Chunked compose (issue #5): with COMPOSE_CHUNK_SIZE=2 every compose below is split into
 * subscriber-id ranges of two due subscribers, one transaction each, queued chunk by chunk.
 * A delivery carries a seq range of its subscriber's matches (see match-ranges.ts).
 * No workers run: the jobs stay queued, and what was queued is recorded by a spy.
 */
describe('delivery: chunked compose', () => {
  let db: TestDatabase;
  let t: TestApp;
  let queued: RowRef[][];
  let failQueueAt: number | undefined;

  beforeEach(async () => {
    db = await createTestDatabase();
    // One chunk transaction at a time, so that the tests below know which chunks have committed.
    t = await startTestApp({ DATABASE_URL: db.url, COMPOSE_CHUNK_SIZE: '2', COMPOSE_CONCURRENCY: '1' }, { workers: false });
    queued = [];
    failQueueAt = undefined;
    const jobs = t.app.get(JobProducer);
    const sendDeliveries = jobs.sendDeliveries.bind(jobs);
    jest.spyOn(jobs, 'sendDeliveries').mockImplementation(async (rows) => {
      if (queued.length === failQueueAt) {
        failQueueAt = undefined;
        throw new Error('simulated crash before queueing');
      }
      queued.push(rows);
      await sendDeliveries(rows);
    });
  });

  afterEach(async () => {
    jest.restoreAllMocks();
    await t.close();
    await db.drop();
  });

  const sql = async <T = Record<string, unknown>>(text: string, params: unknown[] = []): Promise<T[]> =>
    withClient(db.url, async (c) => (await c.query(text, params)).rows as T[]);

  /**
   * Per subscriber: their deliveries, the matches some delivery carries (its seq range holds
   * them), those no delivery carries, and those two deliveries carry (must be none).
   */
  const state = () =>
    sql<{ email: string; deliveries: number; papers: number[]; attached: number; undelivered: number; doubled: number }>(`
      WITH carried AS (
        SELECT m.subscriber_id, m.paper_id, count(d.id)::int AS n
        FROM match m LEFT JOIN delivery d ON d.subscriber_id = m.subscriber_id AND m.seq > d.after_seq AND m.seq <= d.through_seq
        GROUP BY m.subscriber_id, m.paper_id)
      SELECT s.email,
             (SELECT count(*)::int FROM delivery d WHERE d.subscriber_id = s.id) AS deliveries,
             (SELECT coalesce(array_agg(d.paper_count ORDER BY d.id), '{}') FROM delivery d WHERE d.subscriber_id = s.id) AS papers,
             (SELECT count(*)::int FROM carried c WHERE c.subscriber_id = s.id AND c.n > 0) AS attached,
             (SELECT count(*)::int FROM carried c WHERE c.subscriber_id = s.id AND c.n = 0) AS undelivered,
             (SELECT count(*)::int FROM carried c WHERE c.subscriber_id = s.id AND c.n > 1) AS doubled
      FROM subscriber s ORDER BY s.email`);

  const readers = (n: number, papers = (i: number) => 1 + (i % 3)) =>
    Array.from({ length: n }, (_, i) => ({ email: `reader-${String(i).padStart(2, '0')}@example.org`, papers: papers(i) }));

  const queuedIds = () => queued.flat().map((r) => r.id);
  const deliveryIds = async () => (await sql<{ id: number }>(`SELECT id FROM delivery ORDER BY id`)).map((r) => r.id);

  /** A new paper matched to the subscriber with this address (seq from the sequence, like the matching job's). */
  const addMatch = async (email: string, q: (text: string, params: unknown[]) => Promise<unknown> = sql) => {
    const [{ paper }] = await sql<{ paper: number }>(`INSERT INTO paper (title_key, title, abstract) VALUES ($1, $1, 'An abstract.') RETURNING id AS paper`, [`paper ${Math.random()}`]);
    const [{ digest }] = await sql<{ digest: number }>(`SELECT min(id) AS digest FROM digest`);
    await q(`INSERT INTO match (subscriber_id, paper_id, digest_id, score, why, topics) SELECT id, $2, $3, 1, 'later', ARRAY['t'] FROM subscriber WHERE email = $1`, [email, paper, digest]);
  };

  it('writes one delivery per subscriber with all their undelivered matches, queued chunk by chunk; a second compose adds nothing', async () => {
    const subscribers = readers(7);
    await seedMatches(db.url, subscribers);
    const composer = t.app.get(ComposerService);

    expect(await composer.sendNow()).toBe(7);
    const rows = await state();
    expect(rows).toEqual(subscribers.map((s) => ({ email: s.email, deliveries: 1, papers: [s.papers], attached: s.papers, undelivered: 0, doubled: 0 })));
    // 7 due subscribers in ranges of 2: four transactions, each queued on its own
    expect(queued.map((c) => c.length)).toEqual([2, 2, 2, 1]);
    expect(queuedIds().sort((a, b) => a - b)).toEqual(await deliveryIds());

    expect(await composer.sendNow()).toBe(0);
    expect(await state()).toEqual(rows);
    expect(queued.flat()).toHaveLength(7);
  });

  it('"send now" to everyone plans its chunks over the active subscribers: those without undelivered matches and those not active get nothing', async () => {
    const subscribers = readers(8, (i) => (i % 2 === 0 ? 1 + (i % 3) : 0)); // 4 with matches, 4 without
    const ids = await seedMatches(db.url, subscribers);
    await addMatch('reader-01@example.org');
    await sql(`UPDATE subscriber SET status = 'unsubscribed' WHERE email = 'reader-01@example.org'`);

    expect(await t.app.get(ComposerService).sendNow()).toBe(4);
    const rows = await sql<{ subscriber_id: string; paper_count: number }>(`SELECT subscriber_id, paper_count FROM delivery ORDER BY subscriber_id`);
    const withMatches = subscribers.filter((s) => s.papers > 0);
    expect(rows.map((r) => r.subscriber_id)).toEqual(withMatches.map((s) => ids[s.email]).sort());
    expect(rows.map((r) => r.paper_count).sort()).toEqual(withMatches.map((s) => s.papers).sort());
    // 7 active subscribers planned in ranges of 2: four transactions; only the composed ones are queued
    expect(queued.flat()).toHaveLength(4);
    expect(queued.every((c) => c.length <= 2)).toBe(true);
  });

  it('a failure mid-way, then a re-run: every subscriber gets exactly one delivery, nothing is lost or queued twice', async () => {
    const subscribers = readers(9);
    await seedMatches(db.url, subscribers);
    const composer = t.app.get(ComposerService);
    const repo = t.app.get(DeliveryRepository);
    const now = new Date('2026-11-24T08:00:00Z'); // the same issue key both times (as a retried job would)

    // 1. The third chunk's transaction fails: chunks 1 and 2 are committed and queued, nothing else is written.
    const composeRange = repo.composeRange.bind(repo);
    let calls = 0;
    const spy = jest.spyOn(repo, 'composeRange').mockImplementation(async (...args) => {
      if (++calls === 3) throw new Error('simulated database failure');
      return composeRange(...args);
    });
    await expect(composer.sendNow({}, now)).rejects.toThrow('simulated database failure');
    expect(queued.map((c) => c.length)).toEqual([2, 2]);
    expect((await state()).filter((r) => r.deliveries === 1)).toHaveLength(4);
    spy.mockRestore();

    // 2. The re-run's process "dies" after committing its first chunk, before queueing it.
    failQueueAt = 2;
    await expect(composer.sendNow({}, now)).rejects.toThrow('simulated crash before queueing');
    expect(queued).toHaveLength(2);

    // 3. A third run completes what is left.
    await composer.sendNow({}, now);
    const rows = await state();
    expect(rows).toEqual(subscribers.map((s) => ({ email: s.email, deliveries: 1, papers: [s.papers], attached: s.papers, undelivered: 0, doubled: 0 })));
    const issues = await sql<{ issue_key: string }>(`SELECT DISTINCT issue_key FROM delivery`);
    expect(issues).toEqual([{ issue_key: `manual-${now.toISOString()}` }]);

    // Queued at most once each by composing; the two deliveries committed but never queued are
    // pending, and the reconciler re-queues them (with every other pending delivery older than
    // its cutoff: the claim lets only one job send each).
    const all = await deliveryIds();
    expect(new Set(queuedIds()).size).toBe(queuedIds().length);
    const lost = all.filter((id) => !queuedIds().includes(id));
    expect(lost).toHaveLength(2);
    const requeue = jest.spyOn(t.app.get(JobProducer), 'requeueSends');
    const result = await t.app.get(ReconcilerService).reconcile(new Date(Date.now() + 60 * 60_000));
    expect(result.requeuedSends).toBe(9);
    const requeued = requeue.mock.calls.flat(2).map((r) => r.id);
    expect(requeued).toEqual(expect.arrayContaining(lost));
  });

  it('keeps cadence semantics per chunk: a pending issue gathers new matches, a sent one leaves them for the next issue', async () => {
    const daily = (i: number) => ({ email: `daily-${i}@example.org`, frequency: 'daily' as const, timezone: 'UTC', sendHour: 8 });
    await seedMatches(db.url, [daily(1), daily(2), daily(3), daily(4), daily(5)]);
    const composer = t.app.get(ComposerService);
    const at = new Date('2026-11-24T09:00:00Z');
    expect(await composer.composeDue(at)).toBe(5);
    expect(queued.map((c) => c.length)).toEqual([2, 2, 1]);
    expect(await composer.composeDue(at)).toBe(0);

    // daily-1's issue goes out; daily-2's is still pending. Both get a new match the same day.
    await sql(`UPDATE delivery SET status = 'sent' WHERE subscriber_id = (SELECT id FROM subscriber WHERE email = 'daily-1@example.org')`);
    for (const email of ['daily-1@example.org', 'daily-2@example.org']) await addMatch(email);
    expect(await composer.composeDue(new Date('2026-11-24T10:00:00Z'))).toBe(1); // daily-2's pending issue, re-queued
    const rows = Object.fromEntries((await state()).map((r) => [r.email, r]));
    expect(rows['daily-1@example.org']).toMatchObject({ deliveries: 1, papers: [1], attached: 1, undelivered: 1, doubled: 0 });
    expect(rows['daily-2@example.org']).toMatchObject({ deliveries: 1, papers: [2], attached: 2, undelivered: 0, doubled: 0 });
    // the next day, daily-1's waiting match gets its own issue
    expect(await composer.composeDue(new Date('2026-11-25T09:00:00Z'))).toBe(1);
    expect((await state()).find((r) => r.email === 'daily-1@example.org')).toMatchObject({ deliveries: 2, papers: [1, 1], attached: 2, undelivered: 0, doubled: 0 });
  });

  it('a compose waits for a transaction still writing matches: a seq committed late is not skipped', async () => {
    await seedMatches(db.url, [{ email: 'slow@example.org', papers: 1 }]);
    const writer = new Client({ connectionString: db.url });
    await writer.connect();
    try {
      // The writer takes a seq and holds it uncommitted; a higher seq commits meanwhile (written
      // without the lock, as a second writer would have if seqs were not serialised).
      await writer.query('BEGIN');
      await writer.query(`SELECT pg_advisory_xact_lock(${COMPOSE_LOCK})`);
      await addMatch('slow@example.org', (text, params) => writer.query(text, params));
      await addMatch('slow@example.org');
      let done = false;
      const compose = t.app.get(ComposerService).sendNow().finally(() => (done = true));
      await new Promise((res) => setTimeout(res, 500));
      expect(done).toBe(false); // it waits for the writer
      await writer.query('COMMIT');
      expect(await compose).toBe(1);
    } finally {
      await writer.end();
    }
    expect(await state()).toEqual([{ email: 'slow@example.org', deliveries: 1, papers: [3], attached: 3, undelivered: 0, doubled: 0 }]);
  });

  it('a cancelled issue gives its papers back to the pool, even when a later issue exists', async () => {
    await seedMatches(db.url, [{ email: 'ada@example.org', papers: 2 }]);
    const composer = t.app.get(ComposerService);
    const first = new Date('2026-11-24T08:00:00Z');
    expect(await composer.sendNow({}, first)).toBe(1);
    await addMatch('ada@example.org');
    expect(await composer.sendNow({}, new Date('2026-11-24T09:00:00Z'))).toBe(1);
    expect(await state()).toEqual([{ email: 'ada@example.org', deliveries: 2, papers: [2, 1], attached: 3, undelivered: 0, doubled: 0 }]);

    expect(await t.app.get(AdminSendsRepository).cancelIssue(`manual-${first.toISOString()}`)).toBe(1);
    expect(await state()).toEqual([{ email: 'ada@example.org', deliveries: 2, papers: [2, 1], attached: 1, undelivered: 2, doubled: 0 }]);
    expect(await composer.sendNow({}, new Date('2026-11-24T10:00:00Z'))).toBe(1);
    expect(await state()).toEqual([{ email: 'ada@example.org', deliveries: 3, papers: [2, 1, 2], attached: 3, undelivered: 0, doubled: 0 }]);
  });

  it('deleting a subscriber deletes their deliveries (there is no foreign key: a trigger does it)', async () => {
    await seedMatches(db.url, readers(3));
    expect(await t.app.get(ComposerService).sendNow()).toBe(3);
    await sql(`DELETE FROM subscriber WHERE email = 'reader-01@example.org'`);
    const left = await sql<{ email: string }>(`SELECT s.email FROM delivery d LEFT JOIN subscriber s ON s.id = d.subscriber_id ORDER BY s.email`);
    expect(left).toEqual([{ email: 'reader-00@example.org' }, { email: 'reader-02@example.org' }]);
  });

  it('runs chunks side by side and yields them in range order', async () => {
    await seedMatches(db.url, readers(7));
    const chunks: RowRef[][] = [];
    for await (const rows of t.app.get(DeliveryRepository).composeChunks({ kind: 'now', issueKey: 'parallel' }, 2, 3)) chunks.push(rows);
    expect(chunks.map((c) => c.length)).toEqual([2, 2, 2, 1]);
    // in range order: each chunk's subscribers sort after the previous chunk's
    const ranges = await sql<{ lo: string; hi: string }>(
      `SELECT min(d.subscriber_id::text) AS lo, max(d.subscriber_id::text) AS hi FROM unnest($1::int[], $2::int[]) AS c(id, chunk) JOIN delivery d ON d.id = c.id GROUP BY c.chunk ORDER BY c.chunk`,
      [chunks.flatMap((c) => c.map((r) => r.id)), chunks.flatMap((c, i) => c.map(() => i))],
    );
    expect(ranges).toHaveLength(4);
    for (let i = 1; i < ranges.length; i++) expect(ranges[i].lo > ranges[i - 1].hi).toBe(true);
    expect((await state()).every((r) => r.deliveries === 1 && r.undelivered === 0 && r.doubled === 0)).toBe(true);
  });

  it('two composes at once over the same subscribers: every match is carried once (the later one composes again)', async () => {
    const subscribers = readers(12);
    await seedMatches(db.url, subscribers);
    const repo = t.app.get(DeliveryRepository);
    const drain = async (issueKey: string) => {
      let n = 0;
      for await (const rows of repo.composeChunks({ kind: 'now', issueKey }, 3, 2)) n += rows.length;
      return n;
    };
    const [a, b] = await Promise.all([drain('race-a'), drain('race-b')]);
    expect(a + b).toBe(12);
    expect(await state()).toEqual(subscribers.map((s) => ({ email: s.email, deliveries: 1, papers: [s.papers], attached: s.papers, undelivered: 0, doubled: 0 })));
  });

  it('a claim shows what the delivery carries, its papers from the worker\'s cache, and an updated paper as it is now', async () => {
    const ids = await seedMatches(db.url, readers(2, () => 2));
    // both readers also get the first reader's best paper
    await sql(
      `INSERT INTO match (subscriber_id, paper_id, digest_id, score, why, topics)
       SELECT $2, paper_id, digest_id, 20, 'shared', ARRAY['shared topic'] FROM match WHERE subscriber_id = $1 ORDER BY score DESC LIMIT 1`,
      [ids['reader-00@example.org'], ids['reader-01@example.org']],
    );
    await t.app.get(ComposerService).sendNow();
    const repo = t.app.get(DeliveryRepository);
    const deliveries = await sql<{ id: number; email: string }>(`SELECT d.id, s.email FROM delivery d JOIN subscriber s ON s.id = d.subscriber_id ORDER BY s.email`);
    const [first] = await repo.claimBatch([deliveries[0].id]);
    expect(first.papers).toEqual((await repo.content(first.id))!.papers);
    expect(first.papers).toHaveLength(2);
    expect(repo.papers.size).toBe(2);

    const shared = first.papers[0].title;
    await sql(`UPDATE paper SET title = 'Retitled: ' || title, upvotes = 42 WHERE title = $1`, [shared]);
    const [second] = await repo.claimBatch([deliveries[1].id]);
    expect(second.papers).toEqual((await repo.content(second.id))!.papers);
    expect(second.papers.map((p) => [p.title, p.why])).toContainEqual([`Retitled: ${shared}`, 'shared']);
    expect(second.papers.find((p) => p.why === 'shared')!.upvotes).toBe(42);
    expect(repo.papers.size).toBe(4); // the shared paper replaced in place, the second reader's two added
  });
});
