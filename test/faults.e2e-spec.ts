/**
 * Fault tests (issue #5): real PostgreSQL, Redis and SMTP, the worker as a child process
 * (`node dist/src/worker.js`, built by `npm test`) wherever it is killed or signalled.
 * Each scenario has its own database, queue prefix and SMTP server, and cleans up after itself.
 */
import { randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import { ComposerService } from '../src/mailer/composer.service';
import { DeliveryRepository } from '../src/mailer/delivery.repository';
import { ReconcilerService } from '../src/mailer/reconciler.service';
import { JOBS, QUEUES } from '../src/infra/queue/queues';
import { Child, killAllChildren, PrivateRedis, requireBuiltWorker, sleep, SinkSmtp, spawnWorker, within } from './helpers/processes';
import { deliveries, seedMatches } from './helpers/seed';
import { deleteKeys, startTestApp, TEST_REDIS_URL, TestApp, waitFor } from './helpers/test-app';
import { createTestDatabase, TestDatabase, withClient } from './helpers/test-db';

jest.setTimeout(90_000);

const emails = (n: number, tag: string) => Array.from({ length: n }, (_, i) => `${tag}-${String(i).padStart(3, '0')}@example.org`);

interface Ctx {
  db: TestDatabase;
  prefix: string;
  redisUrl: string;
  api?: TestApp;
  workers: Child[];
  smtp: SinkSmtp[];
  redis?: PrivateRedis;
}

/** A scenario's database, queue prefix and the in-process API app (no workers) used to enqueue and reconcile. */
async function setup(name: string, redis?: PrivateRedis): Promise<Ctx> {
  requireBuiltWorker();
  const db = await createTestDatabase();
  const prefix = `pbfault-${name}-${process.pid}-${randomBytes(3).toString('hex')}`;
  return { db, prefix, redisUrl: redis?.url ?? TEST_REDIS_URL, workers: [], smtp: [], redis };
}

async function openApi(ctx: Ctx, smtp: SinkSmtp, env: Record<string, string> = {}): Promise<TestApp> {
  ctx.api = await startTestApp({ DATABASE_URL: ctx.db.url, REDIS_URL: ctx.redisUrl, QUEUE_PREFIX: ctx.prefix, SMTP_URL: smtp.url, ...env }, { workers: false });
  return ctx.api;
}

function worker(ctx: Ctx, smtp: SinkSmtp, env: Record<string, string> = {}): Child {
  const w = spawnWorker({ DATABASE_URL: ctx.db.url, REDIS_URL: ctx.redisUrl, QUEUE_PREFIX: ctx.prefix, SMTP_URL: smtp.url, SEND_RATE_PER_SEC: '1000', ...env });
  ctx.workers.push(w);
  return w;
}

async function teardown(ctx: Ctx): Promise<void> {
  const errors: unknown[] = [];
  const attempt = async (fn: () => Promise<unknown>) => {
    try {
      await fn();
    } catch (e) {
      errors.push(e);
    }
  };
  for (const w of ctx.workers) w.kill('SIGKILL');
  await attempt(() => Promise.all(ctx.workers.map((w) => w.exited)));
  if (ctx.api) await attempt(() => ctx.api!.close());
  for (const s of ctx.smtp) await attempt(() => s.stop());
  await attempt(() => ctx.db.drop());
  if (ctx.redis) await attempt(() => ctx.redis!.destroy());
  else await attempt(() => deleteKeys(ctx.prefix));
  if (errors.length) throw errors[0];
}

/** Emails received per address, over every SMTP server of the scenario (one port, successive servers). */
function received(ctx: Ctx): Map<string, number> {
  const m = new Map<string, number>();
  for (const s of ctx.smtp) for (const a of s.accepted) m.set(a, (m.get(a) ?? 0) + 1);
  return m;
}

const statusCounts = (rows: { status: string }[]) => rows.reduce<Record<string, number>>((acc, r) => ((acc[r.status] = (acc[r.status] ?? 0) + 1), acc), {});

/** Waits until no delivery is pending or retrying (rows in 'sending' are allowed: see the caller). */
/**
 * Waits until no delivery is pending, retrying or sending. With `sendingClaimedBefore`, rows
 * claimed before that moment (by a worker that was killed) may stay 'sending'; claims made after
 * it belong to a live worker and are waited for.
 */
async function settled(ctx: Ctx, what: string, timeoutMs: number, sendingClaimedBefore?: Date) {
  return waitFor(
    what,
    async () => {
      const rows = await deliveries(ctx.db.url);
      const liveClaims = sendingClaimedBefore
        ? await withClient(ctx.db.url, async (c) =>
            Number((await c.query(`SELECT count(*) AS n FROM delivery WHERE status = 'sending' AND claimed_at > $1`, [sendingClaimedBefore])).rows[0].n),
          )
        : 0;
      const open = rows.filter((r) => r.status === 'pending' || r.status === 'retry' || (!sendingClaimedBefore && r.status === 'sending'));
      return rows.length > 0 && open.length === 0 && liveClaims === 0 && ctx.smtp.every((s) => s.inflight === 0) ? rows : false;
    },
    timeoutMs,
  ).catch(async (e) => {
    const rows = await deliveries(ctx.db.url);
    const tails = ctx.workers.map((w, i) => `--- worker ${i} (pid ${w.pid}) output:\n${w.output().slice(-2000)}`).join('\n');
    throw new Error(`${(e as Error).message}; deliveries by status ${JSON.stringify(statusCounts(rows))}\n${tails}`);
  });
}

afterAll(async () => {
  await killAllChildren();
});

describe('faults: the worker process dies or is stopped', () => {
  it('kill -9 mid-send, restart: nobody gets two emails, and nobody is missing without an `unknown` delivery', async () => {
    const smtp = await SinkSmtp.start({ delayMs: 60 });
    const ctx = await setup('kill9');
    ctx.smtp.push(smtp);
    try {
      const addresses = emails(200, 'kill');
      await seedMatches(ctx.db.url, addresses.map((email) => ({ email })));
      const api = await openApi(ctx, smtp);
      expect(await api.app.get(ComposerService).sendNow()).toBe(200);

      const env = { SEND_CONCURRENCY: '4', SMTP_POOL_SIZE: '4' };
      const first = worker(ctx, smtp, env);
      // Kill when ~25% went out and every running job is inside the SMTP exchange (the server
      // holds its answer), so the kill lands in the window where SMTP may or may not accept.
      let acceptedAtKill = -1;
      let killedAt = new Date(0);
      smtp.onData = (n) => {
        if (acceptedAtKill < 0 && n >= 50 && smtp.inflight === 4) {
          first.kill('SIGKILL');
          killedAt = new Date();
          acceptedAtKill = smtp.accepted.length;
        }
      };
      const killed = await within(first.exited, 30_000);
      if (!killed) throw new Error(`the worker was not killed mid-send (accepted ${smtp.accepted.length}):\n${first.output()}`);
      expect(killed.signal).toBe('SIGKILL');
      expect(acceptedAtKill).toBeGreaterThanOrEqual(40);
      expect(acceptedAtKill).toBeLessThan(100);

      worker(ctx, smtp, env);
      // Everything except what the dead worker had claimed goes out; its claims stay 'sending'.
      const before = await settled(ctx, 'the restarted worker to send the rest', 45_000, killedAt);
      const stuckAtRestart = before.filter((r) => r.status === 'sending').length;
      // A handful: what the dead worker held at the kill (claims in flight at SMTP, plus sends SMTP
      // had accepted that the worker had not yet recorded). Never a large share of the run.
      expect(stuckAtRestart).toBeGreaterThanOrEqual(1);
      expect(stuckAtRestart).toBeLessThanOrEqual(20);

      // The reconciler, as if UNKNOWN_AFTER_MS had passed: the dead worker's claims become 'unknown',
      // not resent. (A statement the dead worker had already sent to PostgreSQL may still have
      // recorded a send since the snapshot: so at most that many, and at least one.)
      const r = await api.app.get(ReconcilerService).reconcile(new Date(Date.now() + api.config.env.UNKNOWN_AFTER_MS + 1000));
      expect(r.markedUnknown).toBeGreaterThanOrEqual(1);
      expect(r.markedUnknown).toBeLessThanOrEqual(stuckAtRestart);
      await sleep(500); // anything wrongly re-queued would show up here

      const rows = await deliveries(ctx.db.url);
      const got = received(ctx);
      expect(rows).toHaveLength(200);
      expect(statusCounts(rows)).toEqual({ sent: 200 - r.markedUnknown, unknown: r.markedUnknown });
      expect(Math.max(...addresses.map((a) => got.get(a) ?? 0))).toBe(1);
      const byEmail = new Map(rows.map((d) => [d.email, d.status]));
      const missing = addresses.filter((a) => !got.has(a));
      for (const a of missing) expect([a, byEmail.get(a)]).toEqual([a, 'unknown']);
      for (const d of rows.filter((x) => x.status === 'sent')) expect([d.email, got.get(d.email)]).toEqual([d.email, 1]);
    } finally {
      await teardown(ctx);
    }
  });

  it('SIGTERM mid-send drains: in-flight sends finish and are recorded, the process exits 0', async () => {
    const smtp = await SinkSmtp.start({ delayMs: 300 });
    const ctx = await setup('drain');
    ctx.smtp.push(smtp);
    try {
      const addresses = emails(40, 'drain');
      await seedMatches(ctx.db.url, addresses.map((email) => ({ email })));
      await (await openApi(ctx, smtp)).app.get(ComposerService).sendNow();
      const w = worker(ctx, smtp, { SEND_CONCURRENCY: '4', SMTP_POOL_SIZE: '4' });
      let signalledAt = 0;
      let owedAtSignal = 0; // accepted so far + the messages whose answer the server is holding
      smtp.onData = (n) => {
        if (!signalledAt && n >= 8 && smtp.inflight === 4) {
          signalledAt = Date.now();
          owedAtSignal = smtp.accepted.length + smtp.inflight;
          w.kill('SIGTERM');
        }
      };
      const exit = await within(w.exited, 40_000);
      if (!exit) throw new Error(`the worker did not stop within 40 s of starting:\n${w.output()}`);
      expect(signalledAt).toBeGreaterThan(0);
      expect(Date.now() - signalledAt).toBeLessThan(15_000);
      expect({ ...exit, output: exit.code === 0 ? '' : w.output() }).toEqual({ code: 0, signal: null, output: '' });

      const rows = await deliveries(ctx.db.url);
      const got = received(ctx);
      expect(rows.filter((r) => r.status === 'sending' || r.status === 'unknown')).toEqual([]);
      // The four messages held by the server when the signal came were finished and recorded.
      expect(rows.filter((r) => r.status === 'sent').length).toBe(smtp.accepted.length);
      expect(smtp.accepted.length).toBeGreaterThanOrEqual(owedAtSignal);
      expect(smtp.accepted.length).toBeLessThan(40);
      for (const d of rows.filter((x) => x.status === 'sent')) expect([d.email, got.get(d.email)]).toEqual([d.email, 1]);

      // A new worker picks up the rest; still exactly one email each.
      worker(ctx, smtp, { SEND_CONCURRENCY: '4', SMTP_POOL_SIZE: '4' });
      await settled(ctx, 'a new worker to send the rest', 40_000);
      const after = received(ctx);
      for (const a of addresses) expect([a, after.get(a)]).toEqual([a, 1]);
    } finally {
      await teardown(ctx);
    }
  });

  it('the same delivery queued twice (two job ids), two worker processes: one email', async () => {
    const smtp = await SinkSmtp.start({ delayMs: 5 });
    const ctx = await setup('dup');
    ctx.smtp.push(smtp);
    const queue = new Queue(QUEUES.send, { connection: { host: '127.0.0.1', port: Number(new URL(TEST_REDIS_URL).port || 6379), maxRetriesPerRequest: null }, prefix: ctx.prefix });
    try {
      const addresses = emails(50, 'dup');
      await seedMatches(ctx.db.url, addresses.map((email) => ({ email })));
      const api = await openApi(ctx, smtp);
      // Deliveries without their normal jobs: we add the jobs ourselves.
      const refs = await api.app.get(DeliveryRepository).compose({ kind: 'now', issueKey: 'dup-test' });
      expect(refs).toHaveLength(50);
      worker(ctx, smtp, { SEND_CONCURRENCY: '8' });
      worker(ctx, smtp, { SEND_CONCURRENCY: '8' });
      await waitFor('two send workers', async () => (await queue.getWorkersCount()) >= 2, 30_000);
      await queue.addBulk(
        refs.flatMap((d) => [
          { name: JOBS.send, data: { deliveryId: d.id }, opts: { jobId: `dup-a-${d.id}` } },
          { name: JOBS.send, data: { deliveryId: d.id }, opts: { jobId: `dup-b-${d.id}` } },
        ]),
      );
      await waitFor('all 100 jobs to complete', async () => (await queue.getJobCounts('completed')).completed === 100, 30_000);
      const rows = await deliveries(ctx.db.url);
      expect(statusCounts(rows)).toEqual({ sent: 50 });
      const got = received(ctx);
      for (const a of addresses) expect([a, got.get(a)]).toEqual([a, 1]);
      const outcomes = (await queue.getCompleted(0, 200)).map((j) => j.returnvalue as string);
      expect(statusCounts(outcomes.map((status) => ({ status })))).toEqual({ sent: 50, 'not-claimed': 50 });
    } finally {
      await queue.close();
      await teardown(ctx);
    }
  });
});

describe('faults: the services the worker depends on go away', () => {
  it('SMTP server down for 20 s mid-send, then back on the same port: everything arrives exactly once', async () => {
    const first = await SinkSmtp.start({ delayMs: 40 });
    const ctx = await setup('smtpdown');
    ctx.smtp.push(first);
    try {
      const addresses = emails(120, 'down');
      await seedMatches(ctx.db.url, addresses.map((email) => ({ email })));
      // Backoff 700 ms × 1, 2, 4, … (±50%) over 10 attempts spans far more than the outage. Attempts
      // and backoff are job options: they come from the process that adds the jobs.
      const retries = { SEND_BACKOFF_MS: '700', SEND_ATTEMPTS: '10', SMTP_SLOWDOWN_MS: '1000' };
      await (await openApi(ctx, first, retries)).app.get(ComposerService).sendNow();
      worker(ctx, first, { SEND_CONCURRENCY: '4', SMTP_POOL_SIZE: '4', ...retries });
      let down: Promise<void> | undefined;
      first.onData = (n) => {
        if (n === 30) down = first.stop();
      };
      await waitFor('the outage to start', async () => down !== undefined, 30_000);
      await down;
      const downAt = Date.now();
      const mid = await deliveries(ctx.db.url);
      expect(mid.filter((r) => r.status === 'sent').length).toBeLessThan(60);
      await sleep(20_000);
      // Meanwhile nothing could be sent, and nothing gave up.
      const during = await deliveries(ctx.db.url);
      expect(during.filter((r) => r.status === 'failed')).toEqual([]);
      expect(during.filter((r) => r.status === 'retry').length).toBeGreaterThan(0);
      const second = await SinkSmtp.start({ port: first.port, delayMs: 5 });
      ctx.smtp.push(second);
      const rows = await settled(ctx, 'every delivery to be sent after the outage', 50_000);
      expect(Date.now() - downAt).toBeGreaterThan(20_000);
      expect(statusCounts(rows)).toEqual({ sent: 120 });
      const got = received(ctx);
      for (const a of addresses) expect([a, got.get(a)]).toEqual([a, 1]);
      expect(second.accepted.length).toBeGreaterThan(0);
    } finally {
      await teardown(ctx);
    }
  });

  it('Redis restarted mid-send (private redis-server, AOF): workers resume within 35 s, nothing lost or doubled', async () => {
    const redis = await PrivateRedis.start();
    const smtp = await SinkSmtp.start({ delayMs: 30 });
    const ctx = await setup('redis', redis);
    ctx.smtp.push(smtp);
    try {
      const addresses = emails(200, 'redis');
      await seedMatches(ctx.db.url, addresses.map((email) => ({ email })));
      const api = await openApi(ctx, smtp);
      await api.app.get(ComposerService).sendNow();
      // The API process has done its part; only the worker lives through the restart.
      await api.close();
      ctx.api = undefined;

      worker(ctx, smtp, { SEND_CONCURRENCY: '4', SMTP_POOL_SIZE: '4' });
      let restart: Promise<void> | undefined;
      smtp.onData = (n) => {
        if (n === 50) restart = redis.restart(2000);
      };
      await waitFor('the restart to begin', async () => restart !== undefined, 30_000);
      await restart;
      const upAt = Date.now();
      const countAtUp = smtp.accepted.length;
      await waitFor('the worker to send again after the restart', async () => smtp.accepted.length > countAtUp + 5, 35_000);
      const resumedAfter = Date.now() - upAt;
      expect(resumedAfter).toBeLessThan(35_000);

      // (rows still 'sending' are allowed here: if any remain, the reconciler path below decides)
      let rows = await settled(ctx, 'every delivery to be sent', 40_000, new Date(Date.now() + 3_600_000)).catch(() => undefined);
      if (!rows || rows.some((r) => r.status !== 'sent')) {
        // Jobs lost in the restart: the reconciler re-queues pending rows from the database.
        const again = await openApi(ctx, smtp);
        await again.app.get(ReconcilerService).reconcile(new Date(Date.now() + again.config.env.RECONCILE_AFTER_MS + 1000));
        rows = await settled(ctx, 'every delivery to be sent after reconciling', 40_000);
      }
      expect(statusCounts(rows)).toEqual({ sent: 200 });
      const got = received(ctx);
      for (const a of addresses) expect([a, got.get(a)]).toEqual([a, 1]);
    } finally {
      await teardown(ctx);
    }
  });
});
