import { randomUUID } from 'node:crypto';
import { getQueueToken } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import type { ParsedMail } from 'mailparser';
import request from 'supertest';
import { QUEUES } from '../src/infra/queue/queues';
import { JobProducer } from '../src/infra/queue/job-producer.service';
import { DeliveryRepository } from '../src/mailer/delivery.repository';
import { ACCEPTED } from '../src/subscribers/subscriptions-api.controller';
import { SubscribersService } from '../src/subscribers/subscribers.service';
import { TokensService } from '../src/subscribers/tokens.service';
import { SmtpCapture } from './helpers/smtp-capture';
import { startTestApp, TestApp, waitFor } from './helpers/test-app';
import { createTestDatabase, tableCounts, TestDatabase, withClient } from './helpers/test-db';

/** mailparser turns List-* headers into objects; tests want the header as sent. */
function rawHeader(mail: ParsedMail, name: string): string {
  const line = mail.headerLines.find((h) => h.key === name);
  return line ? line.line.slice(line.line.indexOf(':') + 1).replace(/\r?\n\s+/g, ' ').trim() : '';
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

describe('subscriber self-service API (real PostgreSQL, Redis and SMTP)', () => {
  let db: TestDatabase;
  let smtp: SmtpCapture;
  let t: TestApp;
  let tokens: TokensService;

  beforeAll(async () => {
    db = await createTestDatabase();
    smtp = await SmtpCapture.start();
    t = await startTestApp({
      DATABASE_URL: db.url,
      SMTP_URL: smtp.url,
      CONFIRM_EMAILS_PER_DAY: '2',
      CONSENT_RECORD_IP: 'true',
      RATE_LIMIT_SUBSCRIBE_PER_HOUR: '100000',
      RATE_LIMIT_PUBLIC_PER_MINUTE: '100000',
    });
    tokens = t.app.get(TokensService);
  });

  afterAll(async () => {
    await t?.close();
    await smtp?.stop();
    await db?.drop();
  });

  const sql = async <R extends Record<string, unknown> = Record<string, unknown>>(text: string, params: unknown[] = []) =>
    (await withClient(db.url, (c) => c.query(text, params))).rows as R[];
  const subscriber = async (email: string) => (await sql(`SELECT * FROM subscriber WHERE email = $1`, [email]))[0];
  /** Every request of an address has been decided by the worker. */
  const decided = (email: string) =>
    waitFor(`requests of ${email} to be processed`, async () => (await sql(`SELECT count(*)::int AS n FROM subscription_request WHERE email = $1 AND outcome IS NULL`, [email]))[0].n === 0);
  const subscribe = (body: object) => request(t.url).post('/api/subscriptions').send(body);
  const confirmLink = (mail: ParsedMail) => {
    const m = /<(https:\/\/papers\.example\.org\/confirm\/[^>\s]+)>/.exec(mail.text ?? '');
    if (!m) throw new Error('no confirm link in the email');
    return new URL(m[1]).pathname;
  };
  /** Subscribes and confirms through the API; returns the manage token. */
  async function activate(email: string, topics = ['diffusion models']): Promise<string> {
    const before = smtp.to(email).length;
    await subscribe({ email, topics, frequency: 'instant' }).expect(202);
    const mail = await waitFor(`confirmation to ${email}`, async () => smtp.to(email)[before]);
    const token = decodeURIComponent(confirmLink(mail.parsed).split('/').pop()!);
    const res = await request(t.url).post('/api/confirmations').send({ token }).expect(200);
    return res.body.manageToken;
  }

  it('double opt-in: 202 → confirmation email → a GET confirms nothing → the POST activates and records consent', async () => {
    const res = await subscribe({ email: ' Ada@Example.org ', topics: ['diffusion models', '"neural collapse"'], frequency: 'daily', timezone: 'Europe/Paris', sendHour: 7 });
    expect(res.status).toBe(202);
    expect(res.body).toEqual(ACCEPTED);

    const mail = await waitFor('the confirmation email', async () => smtp.to('ada@example.org')[0]);
    const m = mail.parsed;
    expect(m.subject).toBe('Confirm your Paperboy paper alerts');
    expect(m.text).toContain('- diffusion models');
    expect((m.text ?? '').replace(/\s+/g, ' ')).toContain('once a day, at 07:00 (Europe/Paris)');
    expect(String(m.html)).toContain('&quot;neural collapse&quot;');
    expect(rawHeader(m, 'list-unsubscribe')).toBe(''); // not a list message: the reader is not subscribed yet
    expect(await subscriber('ada@example.org')).toBeUndefined(); // nothing but the request exists until confirmed

    const path = confirmLink(m);
    const before = await tableCounts(db.url);
    const page = await request(t.url).get(path).expect(200);
    expect(page.text).toContain(`<form method="post" action="${path}">`);
    expect(page.headers['cache-control']).toBe('no-store');
    expect(page.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    await request(t.url).head(path);
    expect(await tableCounts(db.url)).toEqual(before);

    const done = await request(t.url).post(path).type('form').send('').expect(200);
    expect(done.text).toContain('You are subscribed');
    const s = await subscriber('ada@example.org');
    expect(s).toMatchObject({ status: 'active', frequency: 'daily', timezone: 'Europe/Paris', send_hour: 7, consent_source: 'api' });
    const topics = await sql(`SELECT label FROM subscriber_topic WHERE subscriber_id = $1 ORDER BY label`, [s.id]);
    expect(topics.map((r) => r.label)).toEqual(['"neural collapse"', 'diffusion models']);
    const consent = await sql(`SELECT * FROM consent_record WHERE subscriber_id = $1`, [s.id]);
    expect(consent).toHaveLength(1);
    expect(consent[0]).toMatchObject({ action: 'confirmed', topics: ['diffusion models', '"neural collapse"'], source: 'api', form_version: 'api/v1' });
    expect(consent[0].ip).toMatch(/127\.0\.0\.1/);
    expect(consent[0].requested_at).toBeInstanceOf(Date);

    // confirming twice is harmless
    await request(t.url).post(path).expect(200);
    expect(await sql(`SELECT id FROM consent_record WHERE subscriber_id = $1`, [s.id])).toHaveLength(1);
  });

  it('rejects bad input with clear 400 and 413 messages, and stores nothing', async () => {
    const before = await tableCounts(db.url);
    const bad = async (body: object, pattern: RegExp) => {
      const res = await subscribe(body).expect(400);
      expect(res.body.message).toMatch(pattern);
    };
    await bad({ email: 'not-an-address', topics: ['x'] }, /^email: that does not look like an email address$/);
    await bad({ email: 'a@example.org\r\nBcc: victim@example.org', topics: ['x'] }, /^email: /);
    await bad({ email: 'a@example.org\u0000', topics: ['x'] }, /^email: /);
    await bad({ email: 'a@example.org', topics: [] }, /^topics: give at least one alert$/);
    await bad({ email: 'a@example.org', topics: ['"unclosed phrase'] }, /^topics: alert 1 ""unclosed phrase": unbalanced quotes$/);
    await bad({ email: 'a@example.org', topics: Array.from({ length: 21 }, (_, i) => `topic ${i}`) }, /^topics: at most 20 alerts \(you gave 21\)$/);
    await bad({ email: 'a@example.org', topics: ['x'.repeat(300)] }, /longer than 256 characters/);
    await bad({ email: 'a@example.org', topics: ['ok'], frequency: 'hourly' }, /^frequency: must be instant, daily or weekly$/);
    await bad({ email: 'a@example.org', topics: ['ok'], timezone: 'Mars/Olympus' }, /^timezone: must be an IANA time zone/);
    await bad({ email: 'a@example.org', topics: ['ok'], sendHour: 24 }, /^sendHour: must be a whole hour from 0 to 23$/);
    const big = await subscribe({ email: 'a@example.org', topics: ['x'.repeat(20_000)] }).expect(413);
    expect(big.body.message).toBe('The request body is larger than 16kb.');
    const syntax = await request(t.url).post('/api/subscriptions').set('Content-Type', 'application/json').send('{"email":').expect(400);
    expect(syntax.body.message).toBe('The request body is not valid JSON.');
    expect(await tableCounts(db.url)).toEqual(before);
  });

  it('answers identically for new, pending, active, unsubscribed and erased addresses, and limits confirmations per day', async () => {
    // set up one address in each state
    await subscribe({ email: 'pending@example.org', topics: ['graph neural networks'] }).expect(202);
    await activate('active@example.org');
    const gone = await activate('gone@example.org');
    await request(t.url).post('/api/preferences/unsubscribe').set('Authorization', `Bearer ${gone}`).expect(200);
    const erased = await activate('erased@example.org');
    await request(t.url).delete('/api/preferences').set('Authorization', `Bearer ${erased}`).expect(204);
    await Promise.all(['pending', 'active', 'gone', 'erased'].map((a) => decided(`${a}@example.org`)));

    const states = { new: () => `new-${randomUUID()}@example.org`, pending: () => 'pending@example.org', active: () => 'active@example.org', unsubscribed: () => 'gone@example.org', erased: () => 'erased@example.org' };
    const answers = new Set<string>();
    const times: Record<string, number[]> = {};
    for (let round = 0; round < 8; round++) {
      for (const [state, email] of Object.entries(states)) {
        const started = process.hrtime.bigint();
        const res = await subscribe({ email: email(), topics: ['protein folding'] });
        (times[state] ??= []).push(Number(process.hrtime.bigint() - started) / 1e6);
        answers.add(JSON.stringify({ status: res.status, body: res.body, type: res.headers['content-type'], length: res.headers['content-length'] }));
      }
    }
    expect(answers.size).toBe(1);
    expect(JSON.parse([...answers][0])).toMatchObject({ status: 202, body: ACCEPTED });
    // Same work in every case (one insert, one enqueue): medians stay within noise of each other.
    const medians = Object.values(times).map(median);
    expect(Math.max(...medians) - Math.min(...medians)).toBeLessThan(Math.max(15, Math.min(...medians)));

    // The worker decides: at most CONFIRM_EMAILS_PER_DAY (2) confirmations per address per day.
    for (const a of ['pending', 'active', 'gone', 'erased']) await decided(`${a}@example.org`);
    expect(smtp.to('pending@example.org')).toHaveLength(2);
    expect(smtp.to('active@example.org')).toHaveLength(2); // one from activate(), one more today
    const outcomes = await sql(`SELECT outcome, count(*)::int AS n FROM subscription_request WHERE email = 'pending@example.org' GROUP BY 1 ORDER BY 1`);
    expect(outcomes).toEqual([{ outcome: 'limited', n: 7 }, { outcome: 'sent', n: 2 }]);
  });

  it('rejects bad, expired, unknown and cross-purpose tokens with one identical answer', async () => {
    const manage = await activate('tokens@example.org');
    const id = tokens.verify('manage', manage)!;
    const variants = {
      tampered: manage.slice(0, -1) + (manage.endsWith('A') ? 'B' : 'A'),
      expired: tokens.sign('manage', id, new Date(Date.now() - 91 * 24 * 3600_000)),
      unknown: tokens.sign('manage', randomUUID()),
      wrongPurpose: tokens.sign('unsubscribe', id),
      garbage: 'not-a-token',
    };
    const confirmVariants = {
      tampered: variants.tampered,
      expired: tokens.sign('confirm', randomUUID(), new Date(Date.now() - 8 * 24 * 3600_000)),
      unknown: tokens.sign('confirm', randomUUID()),
      wrongPurpose: tokens.sign('manage', id),
    };
    const shape = (r: request.Response) => JSON.stringify({ status: r.status, body: r.text, type: r.headers['content-type'] });
    const same = async (make: (token: string) => Promise<request.Response>, tokens: Record<string, string>) => {
      const answers = new Set<string>();
      for (const tok of Object.values(tokens)) answers.add(shape(await make(tok)));
      expect(answers.size).toBe(1);
      return JSON.parse([...answers][0]);
    };
    const before = await tableCounts(db.url);
    expect((await same((k) => request(t.url).get(`/manage/${encodeURIComponent(k)}`), variants)).status).toBe(404);
    expect((await same((k) => request(t.url).post(`/manage/${encodeURIComponent(k)}/unsubscribe`), variants)).status).toBe(404);
    expect((await same((k) => request(t.url).post(`/manage/${encodeURIComponent(k)}/delete`).type('form').send('confirm=yes'), variants)).status).toBe(404);
    expect((await same((k) => request(t.url).get('/api/preferences').set('Authorization', `Bearer ${k}`), variants)).status).toBe(404);
    expect((await same((k) => request(t.url).delete('/api/preferences').set('Authorization', `Bearer ${k}`), variants)).status).toBe(404);
    expect((await same((k) => request(t.url).get(`/confirm/${encodeURIComponent(k)}`), confirmVariants)).status).toBe(404);
    expect((await same((k) => request(t.url).post(`/confirm/${encodeURIComponent(k)}`), confirmVariants)).status).toBe(404);
    expect((await same((k) => request(t.url).post('/api/confirmations').send({ token: k }), confirmVariants)).status).toBe(404);
    const unsub = { ...variants, wrongPurpose: manage, expired: 'x.y.z' };
    expect((await same((k) => request(t.url).post(`/unsubscribe/${encodeURIComponent(k)}`), unsub)).status).toBe(200);
    expect(await tableCounts(db.url)).toEqual(before);
    expect((await subscriber('tokens@example.org')).status).toBe('active');
  });

  it('a GET never changes anything, on any page or API route', async () => {
    const manage = await activate('reader@example.org');
    await subscribe({ email: 'reader2@example.org', topics: ['robotics'] }).expect(202);
    const confirmMail = await waitFor('confirmation', async () => smtp.to('reader2@example.org')[0]);
    const id = tokens.verify('manage', manage)!;
    const unsubscribe = tokens.sign('unsubscribe', id);
    const snapshot = async () => ({ counts: await tableCounts(db.url), rows: await sql(`SELECT * FROM subscriber ORDER BY email`), requests: await sql(`SELECT * FROM subscription_request ORDER BY id`) });
    const before = await snapshot();
    const gets = [
      '/',
      '/check-inbox',
      confirmLink(confirmMail.parsed),
      `/manage/${manage}`,
      `/manage/${manage}?done=saved`,
      `/manage/${manage}/data.json`,
      `/unsubscribe/${unsubscribe}`,
      '/assets/app.js',
      '/api/docs-json',
    ];
    for (const path of gets) {
      await request(t.url).get(path).expect(200);
      await request(t.url).head(path);
    }
    await request(t.url).get('/api/preferences').set('Authorization', `Bearer ${manage}`).expect(200);
    await request(t.url).get('/api/preferences/export').set('Authorization', `Bearer ${manage}`).expect(200);
    // GETs on the POST-only paths do not act either
    await request(t.url).get(`/manage/${manage}/unsubscribe`).expect(404);
    await request(t.url).get(`/manage/${manage}/delete`).expect(404);
    expect(await snapshot()).toEqual(before);
  });

  it('manages preferences: topics, schedule, pause, unsubscribe, re-subscribe, export and erase', async () => {
    const manage = await activate('pref@example.org', ['reinforcement learning']);
    const auth = { Authorization: `Bearer ${manage}` };
    const updated = await request(t.url).put('/api/preferences').set(auth).send({ topics: ['pruning', 'title:transformers'], frequency: 'weekly', timezone: 'Asia/Tokyo', sendHour: 18 }).expect(200);
    expect(updated.body).toMatchObject({ email: 'pref@example.org', status: 'active', topics: ['pruning', 'title:transformers'], frequency: 'weekly', timezone: 'Asia/Tokyo', sendHour: 18 });
    const invalid = await request(t.url).put('/api/preferences').set(auth).send({ topics: ['(unbalanced'] }).expect(400);
    expect(invalid.body.message).toMatch(/^topics: alert 1/);

    const until = new Date(Date.now() + 10 * 24 * 3600_000).toISOString().slice(0, 10);
    expect((await request(t.url).post('/api/preferences/pause').set(auth).send({ until }).expect(200)).body.pausedUntil).toBe(`${until}T00:00:00.000Z`);
    await request(t.url).post('/api/preferences/pause').set(auth).send({ until: '2001-01-01' }).expect(400);
    expect((await request(t.url).post('/api/preferences/pause').set(auth).send({ until: null }).expect(200)).body.pausedUntil).toBeNull();

    expect((await request(t.url).post('/api/preferences/unsubscribe').set(auth).expect(200)).body.status).toBe('unsubscribed');
    expect((await request(t.url).post('/api/preferences/resubscribe').set(auth).expect(200)).body.status).toBe('active');

    const exported = await request(t.url).get('/api/preferences/export').set(auth).expect(200);
    expect(exported.body).toMatchObject({ email: 'pref@example.org', topics: expect.any(Array), subscriptionRequests: expect.any(Array) });
    expect(exported.body.consents.map((c: { action: string }) => c.action)).toEqual(['confirmed', 'updated', 'unsubscribed', 'resubscribed']);

    await request(t.url).delete('/api/preferences').set(auth).expect(204);
    expect(await subscriber('pref@example.org')).toBeUndefined();
    expect(await sql(`SELECT * FROM subscription_request WHERE email = 'pref@example.org'`)).toHaveLength(0);
    const hash = tokens.addressHash('pref@example.org');
    expect(await sql(`SELECT reason FROM suppression WHERE email_hash = $1`, [hash])).toEqual([{ reason: 'erased' }]);
    const dump = JSON.stringify(await sql(`SELECT * FROM suppression`));
    expect(dump).not.toContain('pref@example.org');
    // an import or admin add cannot bring it back by accident …
    await expect(t.app.get(SubscribersService).addOrUpdate({ email: 'pref@example.org', topics: ['x'], status: 'active', consentSource: 'import' })).rejects.toThrow(/erased/);
    // … but its owner can, by confirming again, which lifts the suppression
    await activate('pref@example.org');
    expect((await subscriber('pref@example.org')).status).toBe('active');
    expect(await sql(`SELECT * FROM suppression WHERE email_hash = $1`, [hash])).toHaveLength(0);
  });

  it('one-click unsubscribe (RFC 8058): urlencoded or multipart POST, no cookies, 200 without redirect', async () => {
    for (const [email, send] of [
      ['oneclick1@example.org', (r: request.Test) => r.type('form').send('List-Unsubscribe=One-Click')],
      ['oneclick2@example.org', (r: request.Test) => r.field('List-Unsubscribe', 'One-Click')],
    ] as const) {
      const manage = await activate(email);
      const path = `/unsubscribe/${tokens.sign('unsubscribe', tokens.verify('manage', manage)!)}`;
      const res = await send(request(t.url).post(path));
      expect(res.status).toBe(200);
      expect(res.headers.location).toBeUndefined();
      expect(res.headers['set-cookie']).toBeUndefined();
      expect(res.text).toContain('You are unsubscribed');
      expect(res.text).toContain('Re-subscribe with one click');
      expect((await subscriber(email)).status).toBe('unsubscribed');
      const again = await send(request(t.url).post(path));
      expect(again.status).toBe(200);
    }
  });

  it('an unsubscribe or pause between queueing and sending stops the send, at the chokepoint', async () => {
    const digest = (await sql<{ id: number }>(`INSERT INTO digest (source, digest_date, content_hash, status, paper_count) VALUES ('t', '2025-01-01', $1, 'matched', 1) RETURNING id`, [randomUUID()]))[0].id;
    const paper = (await sql<{ id: number }>(`INSERT INTO paper (title_key, title, abstract) VALUES ($1, 'Queued Paper', 'An abstract.') RETURNING id`, [randomUUID()]))[0].id;
    const sendQueue = t.app.get<Queue>(getQueueToken(QUEUES.send));
    const deliveries = t.app.get(DeliveryRepository);
    const jobs = t.app.get(JobProducer);

    for (const [email, interrupt] of [
      ['queued-unsub@example.org', (manage: string, id: string) => request(t.url).post(`/unsubscribe/${tokens.sign('unsubscribe', id)}`).expect(200)],
      ['queued-pause@example.org', (manage: string) => request(t.url).post('/api/preferences/pause').set('Authorization', `Bearer ${manage}`).send({ until: new Date(Date.now() + 3 * 24 * 3600_000).toISOString().slice(0, 10) }).expect(200)],
    ] as const) {
      const manage = await activate(email);
      const id = tokens.verify('manage', manage)!;
      await sql(`INSERT INTO match (subscriber_id, paper_id, digest_id, score, why, topics) VALUES ($1, $2, $3, 1, 'why', ARRAY['diffusion models'])`, [id, paper, digest]);
      const mailsBefore = smtp.to(email).length;
      await sendQueue.pause();
      try {
        const rows = await deliveries.compose({ kind: 'now', issueKey: `manual-${randomUUID()}`, subscriberId: id });
        expect(rows).toHaveLength(1);
        await jobs.sendDeliveries(rows);
        expect(await sendQueue.getWaitingCount()).toBeGreaterThan(0);
        await interrupt(manage, id);
      } finally {
        await sendQueue.resume();
      }
      const d = await waitFor('the queued delivery to be decided', async () => {
        const [row] = await sql(`SELECT status, last_error FROM delivery WHERE subscriber_id = $1`, [id]);
        return row && !['pending', 'sending', 'retry'].includes(row.status as string) ? row : undefined;
      });
      expect(d.status).toBe('skipped');
      expect(smtp.to(email)).toHaveLength(mailsBefore);
    }
  });

  it('documents the JSON API in OpenAPI', async () => {
    const doc = (await request(t.url).get('/api/docs-json').expect(200)).body;
    expect(doc.openapi).toMatch(/^3\./);
    expect(doc.paths['/api/subscriptions'].post.responses['202']).toBeDefined();
    for (const p of ['/api/preview', '/api/confirmations', '/api/preferences', '/api/preferences/pause', '/api/preferences/export', '/api/digests', '/api/digests/import']) expect(doc.paths[p]).toBeDefined();
    expect(doc.paths['/manage/{token}']).toBeUndefined(); // pages are not API
    const ui = await request(t.url).get('/api/docs').expect(200);
    expect(ui.text).toContain('swagger');
  });
});

describe('rate limits (Redis-backed, per client IP, proxy-aware)', () => {
  let db: TestDatabase;
  const apps: TestApp[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    for (const a of apps) await a.close();
    await db?.drop();
  });

  const body = { email: 'limit@example.org', topics: ['graphs'] };

  it('answers 429 with Retry-After past the limit, per client as seen through a trusted proxy', async () => {
    const t = await startTestApp({ DATABASE_URL: db.url, RATE_LIMIT_SUBSCRIBE_PER_HOUR: '3', RATE_LIMIT_PUBLIC_PER_MINUTE: '4', TRUST_PROXY: 'loopback' });
    apps.push(t);
    const from = (ip: string) => request(t.url).post('/api/subscriptions').set('X-Forwarded-For', ip).send(body);
    for (let i = 0; i < 3; i++) await from('203.0.113.7').expect(202);
    const limited = await from('203.0.113.7').expect(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.body.message).toMatch(/^Too many requests/);
    await from('198.51.100.9').expect(202); // another client behind the same (trusted) proxy
    // the form shares the bucket; other public endpoints have their own
    const page = await request(t.url).post('/subscribe').set('X-Forwarded-For', '203.0.113.7').type('form').send('email=a%40b.org&topics=x').expect(429);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.text).toContain('Too many requests');
    for (let i = 0; i < 4; i++) await request(t.url).get(`/manage/x${i}`).set('X-Forwarded-For', '203.0.113.7').expect(404);
    await request(t.url).get('/manage/x').set('X-Forwarded-For', '203.0.113.7').expect(429);
  });

  it('ignores X-Forwarded-For when the proxy is not trusted', async () => {
    const t = await startTestApp({ DATABASE_URL: db.url, RATE_LIMIT_SUBSCRIBE_PER_HOUR: '2', TRUST_PROXY: 'false' });
    apps.push(t);
    for (const ip of ['192.0.2.1', '192.0.2.2']) await request(t.url).post('/api/subscriptions').set('X-Forwarded-For', ip).send(body).expect(202);
    await request(t.url).post('/api/subscriptions').set('X-Forwarded-For', '192.0.2.3').send(body).expect(429);
  });
});
