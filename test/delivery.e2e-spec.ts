import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dkimVerify } from 'mailauth/lib/dkim/verify';
import { Queue } from 'bullmq';
import request from 'supertest';
import { JOBS, QUEUES } from '../src/infra/queue/queues';
import { ComposerService } from '../src/mailer/composer.service';
import { DeliveryRepository } from '../src/mailer/delivery.repository';
import { ReconcilerService } from '../src/mailer/reconciler.service';
import { SenderService } from '../src/mailer/sender.service';
import { deleteKeys, startTestApp, TEST_REDIS_URL, TestApp, waitFor } from './helpers/test-app';
import { deliveries, seedMatches } from './helpers/seed';
import { SmtpCapture } from './helpers/smtp-capture';
import { Child, killAllChildren, spawnWorker } from './helpers/processes';
import { createTestDatabase, TestDatabase, withClient } from './helpers/test-db';

/** Each scenario gets its own database, SMTP server and queue prefix. */
async function scenario(env: Record<string, string> = {}, opts: { workers?: boolean } = {}) {
  const db = await createTestDatabase();
  const smtp = await SmtpCapture.start();
  const t = await startTestApp({ DATABASE_URL: db.url, SMTP_URL: smtp.url, SEND_BACKOFF_MS: '50', ...env }, opts);
  return {
    db,
    smtp,
    t,
    async close() {
      await t.close();
      await smtp.stop();
      await db.drop();
    },
  };
}

/** Several app instances (API-only or with workers) on one database, SMTP server and queue. */
async function sharedQueue(name: string, extraEnv: Record<string, string> = {}) {
  const db = await createTestDatabase();
  const smtp = await SmtpCapture.start();
  const prefix = `pbtest-${name}-${process.pid}`;
  const env = { DATABASE_URL: db.url, SMTP_URL: smtp.url, QUEUE_PREFIX: prefix, ...extraEnv };
  const apps: TestApp[] = [];
  return {
    db,
    smtp,
    prefix,
    async start(workers: boolean): Promise<TestApp> {
      const t = await startTestApp(env, { workers });
      apps.push(t);
      return t;
    },
    async close() {
      for (const t of apps.reverse()) await t.close();
      await smtp.stop();
      await db.drop();
      await deleteKeys(prefix);
    },
  };
}

const allFinal = (db: TestDatabase) => async () => {
  const rows = await deliveries(db.url);
  return rows.length > 0 && rows.every((r) => !['pending', 'sending', 'retry'].includes(r.status)) ? rows : false;
};

describe('delivery: SMTP outcomes', () => {
  it('retries 4xx with backoff: 451, 451, then 250 delivers exactly once', async () => {
    const s = await scenario();
    try {
      s.smtp.reply = (n) => (n < 2 ? { code: 451, message: '4.3.0 Temporary failure, try again' } : undefined);
      await seedMatches(s.db.url, [{ email: 'ada@example.org' }]);
      await s.t.app.get(ComposerService).sendNow();
      const rows = await waitFor('the delivery to finish', allFinal(s.db));
      expect(rows).toMatchObject([{ status: 'sent', attempts: 3 }]);
      expect(s.smtp.to('ada@example.org')).toHaveLength(1);
    } finally {
      await s.close();
    }
  });

  it('treats 5xx as permanent: no retry, the address is suppressed', async () => {
    const s = await scenario();
    try {
      s.smtp.reply = () => ({ code: 550, message: '5.1.1 No such user' });
      const ids = await seedMatches(s.db.url, [{ email: 'gone@example.org' }]);
      await s.t.app.get(ComposerService).sendNow();
      const rows = await waitFor('the delivery to finish', allFinal(s.db));
      expect(rows).toMatchObject([{ status: 'failed', attempts: 1 }]);
      const sub = await withClient(s.db.url, (c) => c.query('SELECT status::text FROM subscriber WHERE id = $1', [ids['gone@example.org']]));
      expect(sub.rows[0].status).toBe('bounced');
      expect(s.smtp.messages).toHaveLength(0);
    } finally {
      await s.close();
    }
  });

  it('slows the queue down on 421 without spending attempts, then delivers', async () => {
    const s = await scenario({ SMTP_SLOWDOWN_MS: '1500', SEND_ATTEMPTS: '2' });
    try {
      const seen: number[] = [];
      s.smtp.reply = (n) => {
        seen.push(Date.now());
        return n === 0 ? { code: 421, message: '4.7.0 Too many messages, slow down' } : undefined;
      };
      await seedMatches(s.db.url, [{ email: 'ada@example.org' }]);
      await s.t.app.get(ComposerService).sendNow();
      const rows = await waitFor('the delivery to finish', allFinal(s.db));
      expect(rows[0].status).toBe('sent');
      expect(s.smtp.to('ada@example.org')).toHaveLength(1);
      // the retry waited for the slow-down, not for the (50 ms) backoff
      expect(seen[1] - seen[0]).toBeGreaterThanOrEqual(1400);
    } finally {
      await s.close();
    }
  });

  it('counts soft bounces: a delivery that keeps failing 4xx is failed, and the limit suppresses', async () => {
    const s = await scenario({ SEND_ATTEMPTS: '2', SOFT_BOUNCE_LIMIT: '1' });
    try {
      s.smtp.reply = () => ({ code: 452, message: '4.2.2 Mailbox full' });
      const ids = await seedMatches(s.db.url, [{ email: 'full@example.org' }]);
      await s.t.app.get(ComposerService).sendNow();
      const rows = await waitFor('the delivery to finish', allFinal(s.db));
      expect(rows).toMatchObject([{ status: 'failed', attempts: 2 }]);
      const sub = await withClient(s.db.url, (c) => c.query('SELECT status::text, soft_bounces FROM subscriber WHERE id = $1', [ids['full@example.org']]));
      expect(sub.rows[0]).toEqual({ status: 'bounced', soft_bounces: 1 });
    } finally {
      await s.close();
    }
  });
});

describe('delivery: exactly once', () => {
  it('the same delivery sent by two workers at once goes out once (the claim decides)', async () => {
    const q = await sharedQueue('twice');
    try {
      const a = await q.start(false);
      const b = await q.start(false);
      await seedMatches(q.db.url, [{ email: 'ada@example.org' }]);
      await a.app.get(ComposerService).sendNow(); // queues a job nobody runs (no workers here)
      const [{ id }] = await deliveries(q.db.url);
      const outcomes = await Promise.all([
        a.app.get(SenderService).send(id, { lastAttempt: false }),
        b.app.get(SenderService).send(id, { lastAttempt: false }),
        a.app.get(SenderService).send(id, { lastAttempt: false }),
      ]);
      expect(outcomes.sort()).toEqual(['not-claimed', 'not-claimed', 'sent']);
      // and when workers start, the queued job finds nothing left to do
      await q.start(true);
      await new Promise((r) => setTimeout(r, 1000));
      expect(q.smtp.to('ada@example.org')).toHaveLength(1);
    } finally {
      await q.close();
    }
  });

  it('an unsubscribe after queueing stops the send', async () => {
    const q = await sharedQueue('unsub');
    try {
      const api = await q.start(false);
      const ids = await seedMatches(q.db.url, [{ email: 'ada@example.org' }, { email: 'bob@example.org' }]);
      expect(await api.app.get(ComposerService).sendNow()).toBe(2);
      await withClient(q.db.url, (c) => c.query(`UPDATE subscriber SET status = 'unsubscribed' WHERE id = $1`, [ids['ada@example.org']]));
      await q.start(true);
      const rows = await waitFor('both deliveries to finish', allFinal(q.db));
      expect(Object.fromEntries(rows.map((r) => [r.email, r.status]))).toEqual({ 'ada@example.org': 'skipped', 'bob@example.org': 'sent' });
      expect(q.smtp.to('ada@example.org')).toHaveLength(0);
    } finally {
      await q.close();
    }
  });

  it('the reconciler re-queues deliveries whose jobs Redis lost, and flags stuck sends as unknown', async () => {
    const q = await sharedQueue('lost');
    try {
      const api = await q.start(false);
      await seedMatches(q.db.url, [{ email: 'ada@example.org' }, { email: 'stuck@example.org' }]);
      await api.app.get(ComposerService).sendNow();
      await deleteKeys(q.prefix); // Redis lost every job
      await withClient(q.db.url, (c) =>
        c.query(`UPDATE delivery d SET status = 'sending', claimed_at = now() - interval '1 hour'
                 FROM subscriber s WHERE s.id = d.subscriber_id AND s.email = 'stuck@example.org'`),
      );
      const worker = await q.start(true);
      await new Promise((r) => setTimeout(r, 500));
      expect(q.smtp.messages).toHaveLength(0); // nothing to run: the jobs are gone
      // (the workers also run the reconciler once at start; this call is what a later tick does)
      const later = new Date(Date.now() + 10 * 60_000 + 1000);
      const result = await worker.app.get(ReconcilerService).reconcile(later);
      expect(result.requeuedSends).toBe(1);
      const rows = await waitFor('the lost delivery to be sent', allFinal(q.db));
      expect(Object.fromEntries(rows.map((r) => [r.email, r.status]))).toEqual({ 'ada@example.org': 'sent', 'stuck@example.org': 'unknown' });
      expect(q.smtp.to('stuck@example.org')).toHaveLength(0);
      // an admin may decide to send the unknown one again
      expect(await worker.app.get(ReconcilerService).reopen('unknown')).toBe(1);
      await waitFor('the reopened delivery', allFinal(q.db));
      expect(q.smtp.to('stuck@example.org')).toHaveLength(1);
    } finally {
      await q.close();
    }
  });
});

describe('delivery: cadence', () => {
  it('sends daily and weekly digests at the local send hour, across a DST change', async () => {
    const s = await scenario({}, { workers: false });
    try {
      await seedMatches(s.db.url, [
        { email: 'ny@example.org', frequency: 'daily', timezone: 'America/New_York', sendHour: 8 },
        { email: 'tokyo@example.org', frequency: 'weekly', timezone: 'Asia/Tokyo', sendHour: 9, sendWeekday: 1 },
        { email: 'now@example.org', frequency: 'instant' },
      ]);
      const composer = s.t.app.get(ComposerService);
      // Sat 7 March 2026, 07:30 in New York (EST, UTC-5): not yet
      expect(await composer.composeDue(new Date('2026-03-07T12:30:00Z'))).toBe(0);
      // 08:05 EST: due
      expect(await composer.composeDue(new Date('2026-03-07T13:05:00Z'))).toBe(1);
      // ticking again within the day adds nothing (one delivery per subscriber and day)
      expect(await composer.composeDue(new Date('2026-03-07T15:00:00Z'))).toBe(0);
      let rows = await deliveries(s.db.url);
      expect(rows.map((r) => [r.email, r.issue_key])).toEqual([['ny@example.org', 'daily-2026-03-07']]);

      const has = async (email: string) => (await deliveries(s.db.url)).some((r) => r.email === email);
      // weekly: Sunday 8 March in Tokyo is not the chosen weekday (Monday)
      await composer.composeDue(new Date('2026-03-08T06:00:00Z'));
      expect(await has('tokyo@example.org')).toBe(false);
      // Monday 9 March 2026, 08:50 in Tokyo (23:50 UTC on the 8th): before the hour
      await composer.composeDue(new Date('2026-03-08T23:50:00Z'));
      expect(await has('tokyo@example.org')).toBe(false);
      // 09:10 in Tokyo = 00:10 UTC
      await composer.composeDue(new Date('2026-03-09T00:10:00Z'));
      expect(await has('tokyo@example.org')).toBe(true);

      // after the switch to EDT (8 March), 08:05 local is 12:05 UTC, no longer 13:05
      await seedMatches(s.db.url, [{ email: 'ny2@example.org', frequency: 'daily', timezone: 'America/New_York', sendHour: 8 }]);
      await composer.composeDue(new Date('2026-03-09T11:55:00Z'));
      expect(await has('ny2@example.org')).toBe(false);
      expect(await composer.composeDue(new Date('2026-03-09T12:05:00Z'))).toBe(1);
      expect(await has('ny2@example.org')).toBe(true);

      rows = await deliveries(s.db.url);
      expect(rows.find((r) => r.email === 'tokyo@example.org')?.issue_key).toBe('weekly-2026-W11');
      expect(rows.find((r) => r.email === 'now@example.org')).toBeUndefined();
    } finally {
      await s.close();
    }
  });

  it('caps an email at MAX_PAPERS_PER_EMAIL with a signed link to the rest', async () => {
    const s = await scenario({ MAX_PAPERS_PER_EMAIL: '2' });
    try {
      await seedMatches(s.db.url, [{ email: 'ada@example.org', papers: 5 }]);
      await s.t.app.get(ComposerService).sendNow();
      await waitFor('the delivery', allFinal(s.db));
      const mail = s.smtp.to('ada@example.org')[0].parsed;
      const text = (mail.text ?? '').replace(/\s+/g, ' ');
      expect(text).toContain('Seeded paper 1 ');
      expect(text).toContain('Seeded paper 2 ');
      expect(text).not.toContain('Seeded paper 3 ');
      expect(mail.subject).toMatch(/^5 new papers/);
      const link = /<(https:\/\/papers\.example\.org\/deliveries\/[^>]+)>/.exec(mail.text ?? '')?.[1];
      expect(link).toBeDefined();
      const page = await request(s.t.url).get(new URL(link!).pathname).expect(200);
      for (let i = 1; i <= 5; i++) expect(page.text).toContain(`Seeded paper ${i} `);
      const forged = await request(s.t.url).get(new URL(link!).pathname.replace(/.$/, (c) => (c === 'x' ? 'y' : 'x'))).expect(200);
      expect(forged.text).toContain('This link is not valid');
    } finally {
      await s.close();
    }
  });
});

describe('delivery: identity and operations', () => {
  it('signs with DKIM, covering List-Unsubscribe and List-Unsubscribe-Post', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const dir = mkdtempSync(join(tmpdir(), 'dkim-'));
    const keyFile = join(dir, 'dkim.pem');
    writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const s = await scenario({ DKIM_DOMAIN: 'paperboy.localhost', DKIM_SELECTOR: 'pb1', DKIM_PRIVATE_KEY_FILE: keyFile });
    try {
      await seedMatches(s.db.url, [{ email: 'ada@example.org' }]);
      await s.t.app.get(ComposerService).sendNow();
      await waitFor('the delivery', allFinal(s.db));
      const raw = s.smtp.to('ada@example.org')[0].raw;
      const dnsRecord = `v=DKIM1; k=rsa; p=${publicKey.export({ type: 'spki', format: 'der' }).toString('base64')}`;
      const result = await dkimVerify(raw, {
        resolver: async (name: string, type: string) => {
          if (name === 'pb1._domainkey.paperboy.localhost' && type === 'TXT') return [[dnsRecord]];
          throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
        },
      });
      expect(result.results[0].status.result).toBe('pass');
      const header = /^DKIM-Signature:((?:.*\r?\n[ \t].*)*.*)$/im.exec(raw.toString())?.[1].replace(/\s+/g, '') ?? '';
      const signed = (/(?:^|;)h=([^;]+)/.exec(header)?.[1] ?? '').toLowerCase().split(':');
      expect(signed).toContain('list-unsubscribe');
      expect(signed).toContain('list-unsubscribe-post');
    } finally {
      await s.close();
    }
  });

  it('bounce webhook: authenticated, suppresses hard bounces and complaints', async () => {
    const secret = 'bounce-secret-'.padEnd(32, 'z');
    const s = await scenario({ BOUNCE_WEBHOOK_SECRET: secret, SOFT_BOUNCE_LIMIT: '2' }, { workers: false });
    try {
      await seedMatches(s.db.url, [{ email: 'hard@example.org' }, { email: 'angry@example.org' }, { email: 'soft@example.org' }]);
      const body = { events: [{ email: 'HARD@example.org', type: 'hard' }, { email: 'angry@example.org', type: 'complaint' }, { email: 'soft@example.org', type: 'soft' }, { email: 'who@example.org', type: 'hard' }] };
      await request(s.t.url).post('/api/webhooks/bounces').send(body).expect(401);
      await request(s.t.url).post('/api/webhooks/bounces').set('Authorization', 'Bearer wrong').send(body).expect(401);
      await request(s.t.url).post('/api/webhooks/bounces').set('Authorization', `Bearer ${secret}`).send({ events: [{ email: 'x@y.z', type: 'meh' }] }).expect(400);
      const res = await request(s.t.url).post('/api/webhooks/bounces').set('Authorization', `Bearer ${secret}`).send(body).expect(200);
      expect(res.body).toEqual({ processed: 4, suppressed: 2, unknown: 1 });
      await request(s.t.url).post('/api/webhooks/bounces').set('Authorization', `Bearer ${secret}`).send({ events: [{ email: 'soft@example.org', type: 'soft' }] }).expect(200);
      const statuses = await withClient(s.db.url, (c) => c.query(`SELECT email, status::text FROM subscriber ORDER BY email`));
      expect(Object.fromEntries(statuses.rows.map((r) => [r.email, r.status]))).toEqual({
        'angry@example.org': 'unsubscribed',
        'hard@example.org': 'bounced',
        'soft@example.org': 'bounced',
      });
    } finally {
      await s.close();
    }
  });

  it('exposes Prometheus metrics for sends and queues', async () => {
    const s = await scenario();
    try {
      await seedMatches(s.db.url, [{ email: 'ada@example.org' }]);
      await s.t.app.get(ComposerService).sendNow();
      await waitFor('the delivery', allFinal(s.db));
      const res = await request(s.t.url).get('/metrics').expect(200);
      expect(res.text).toMatch(/paperboy_emails_total\{outcome="sent"\} 1/);
      expect(res.text).toMatch(/paperboy_queue_jobs\{queue="send"\} 0/);
      expect(res.text).toMatch(/paperboy_send_duration_seconds_count 1/);
    } finally {
      await s.close();
    }
  });
});

describe('delivery: batches', () => {
  afterAll(async () => {
    await killAllChildren();
  });

  const sendQueue = (prefix: string) =>
    new Queue(QUEUES.send, { connection: { host: '127.0.0.1', port: Number(new URL(TEST_REDIS_URL).port || 6379), maxRetriesPerRequest: null }, prefix });

  it('one send-batch job with mixed outcomes: 5xx, 451 then 250, unsubscribed after queueing, the rest sent; each exactly once', async () => {
    const q = await sharedQueue('batch-mix', { SEND_BATCH_SIZE: '100', SEND_ATTEMPTS: '3', SEND_BACKOFF_MS: '50', SEND_CONCURRENCY: '4' });
    const queue = sendQueue(q.prefix);
    try {
      const api = await q.start(false);
      const ok = ['a', 'b', 'c', 'd', 'e'].map((x) => `${x}@example.org`);
      const ids = await seedMatches(q.db.url, [...ok, 'gone@example.org', 'busy@example.org', 'left@example.org'].map((email) => ({ email, papers: 2 })));
      expect(await api.app.get(ComposerService).sendNow()).toBe(8);
      // one batch job, ids only
      const waiting = await queue.getJobs(['waiting']);
      expect(waiting.map((j) => [j.name, j.data.deliveryIds.length])).toEqual([[JOBS.sendBatch, 8]]);
      await withClient(q.db.url, (c) => c.query(`UPDATE subscriber SET status = 'unsubscribed' WHERE id = $1`, [ids['left@example.org']]));
      let busyTries = 0;
      q.smtp.reply = (_n, to) => {
        if (to.includes('gone@example.org')) return { code: 550, message: '5.1.1 No such user' };
        if (to.includes('busy@example.org') && busyTries++ === 0) return { code: 451, message: '4.3.0 Temporary failure, try again' };
        return undefined;
      };
      await q.start(true);
      const rows = await waitFor('every delivery to finish', allFinal(q.db));
      expect(Object.fromEntries(rows.map((r) => [r.email, [r.status, r.attempts]]))).toEqual({
        ...Object.fromEntries(ok.map((e) => [e, ['sent', 1]])),
        'gone@example.org': ['failed', 1],
        'busy@example.org': ['sent', 2],
        'left@example.org': ['skipped', 1],
      });
      for (const e of [...ok, 'busy@example.org']) expect([e, q.smtp.to(e).length]).toEqual([e, 1]);
      for (const e of ['gone@example.org', 'left@example.org']) expect([e, q.smtp.to(e).length]).toEqual([e, 0]);
      expect(busyTries).toBe(2);
      const gone = await withClient(q.db.url, (c) => c.query('SELECT status::text FROM subscriber WHERE id = $1', [ids['gone@example.org']]));
      expect(gone.rows[0].status).toBe('bounced');
      // the batch finished once; only the 451 delivery got a job of its own (the retry), which sent it
      await waitFor('the retry job to complete', async () => (await queue.getJobCounts('completed')).completed === 2);
      const done = await queue.getCompleted(0, 10);
      const batch = done.find((j) => j.name === JOBS.sendBatch)!;
      expect(batch.returnvalue).toEqual({ sent: 5, skipped: 1, failed: 1, retried: 1, notClaimed: 0, remaining: [] });
      expect(done.filter((j) => j.name === JOBS.send).map((j) => [j.data.deliveryId, j.returnvalue])).toEqual([[rows.find((r) => r.email === 'busy@example.org')!.id, 'sent']]);
    } finally {
      await queue.close();
      await q.close();
    }
  });

  it('records sent deliveries in batched writes, not one write per email', async () => {
    const s = await scenario({ SEND_CONCURRENCY: '10', SEND_BATCH_SIZE: '50' }, { workers: true });
    try {
      const repo = s.t.app.get(DeliveryRepository);
      const recordSent = jest.spyOn(repo, 'recordSent');
      const perEmailWrites = [jest.spyOn(repo, 'recordSkipped'), jest.spyOn(repo, 'recordFailure')];
      const emails = Array.from({ length: 40 }, (_, i) => `r${i}@example.org`);
      await seedMatches(s.db.url, emails.map((email) => ({ email })));
      await s.t.app.get(ComposerService).sendNow();
      const rows = await waitFor('the deliveries', allFinal(s.db));
      expect(rows.every((r) => r.status === 'sent')).toBe(true);
      const batches = recordSent.mock.calls.map(([batch]) => batch.length);
      expect(batches.reduce((a, b) => a + b, 0)).toBe(40);
      expect(Math.max(...batches)).toBeGreaterThan(1);
      for (const spy of perEmailWrites) expect(spy).not.toHaveBeenCalled();
      for (const e of emails) expect([e, s.smtp.to(e).length]).toEqual([e, 1]);
    } finally {
      await s.close();
    }
  });

  it('SEND_RATE_PER_SEC counts emails across two worker processes (within 5%)', async () => {
    const rate = 25;
    const q = await sharedQueue('rate');
    const workers: Child[] = [];
    try {
      const api = await q.start(false);
      const emails = Array.from({ length: 250 }, (_, i) => `rate${i}@example.org`);
      await seedMatches(q.db.url, emails.map((email) => ({ email })));
      // two worker processes (`node dist/src/worker.js`), told apart by their envelope sender
      for (const name of ['one', 'two']) {
        workers.push(
          spawnWorker({
            DATABASE_URL: q.db.url, REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: q.prefix, SMTP_URL: q.smtp.url,
            SEND_RATE_PER_SEC: String(rate), SEND_BATCH_SIZE: '20', SEND_CONCURRENCY: '8', MAIL_FROM: `Paperboy <digest@${name}.example.org>`,
          }),
        );
      }
      const queue = sendQueue(q.prefix);
      await waitFor('two send workers', async () => (await queue.getWorkersCount()) >= 2, 30_000);
      await queue.close();
      const at: number[] = [];
      const bySender = new Map<string, number>();
      q.smtp.reply = (_n, _to, from) => {
        at.push(Date.now());
        bySender.set(from, (bySender.get(from) ?? 0) + 1);
        return undefined;
      };
      expect(await api.app.get(ComposerService).sendNow()).toBe(250);
      const rows = await waitFor('every delivery to be sent', allFinal(q.db), 40_000);
      expect(rows.every((r) => r.status === 'sent')).toBe(true);
      expect(at).toHaveLength(250);
      // emails per second over the run: the least-squares slope of arrival time against email number
      // (the first emails also wait for each worker's SMTP connections to open, and a worker that fell
      // behind catches up, so single emails can be early or late; the slope is the rate they keep)
      const n = at.length;
      const meanI = (n - 1) / 2;
      const meanT = at.reduce((a, t) => a + t, 0) / n;
      const slopeMs = at.reduce((a, t, i) => a + (i - meanI) * (t - meanT), 0) / at.reduce((a, _t, i) => a + (i - meanI) ** 2, 0);
      const measured = 1000 / slopeMs;
      expect(measured).toBeGreaterThanOrEqual(rate * 0.95);
      expect(measured).toBeLessThanOrEqual(rate * 1.05);
      // both processes sent part of it
      expect([...bySender.keys()].sort()).toEqual(['digest@one.example.org', 'digest@two.example.org']);
    } finally {
      for (const w of workers) w.kill('SIGKILL');
      await Promise.all(workers.map((w) => w.exited));
      await q.close();
    }
  });

});
