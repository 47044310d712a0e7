import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ParsedMail } from 'mailparser';
import request from 'supertest';
import { digestFromPage } from '../src/ingestion/parsers/digest-input';
import { compileTopics, InMemoryStats, matchPapers } from '../src/matching/engine';
import { SubscribersService } from '../src/subscribers/subscribers.service';
import { SmtpCapture } from './helpers/smtp-capture';
import { startTestApp, TestApp, waitFor } from './helpers/test-app';
import { createTestDatabase, tableCounts, TestDatabase, withClient } from './helpers/test-db';

const SEEDS = join(__dirname, '../prisma/seed-digests');
const page = (n: number) => readFileSync(join(SEEDS, ['000_41eb20fd0f437e65', '001_4f5b244bc862d203', '002_80ae0b6a3b65c4c3'][n] + '.txt'), 'utf8');

/** The text part wraps long lines; compare with whitespace folded. */
const flat = (s: string | undefined) => (s ?? '').replace(/\s+/g, ' ');
const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#x27;');

/** mailparser turns List-* headers into objects; tests want the header as sent. */
function rawHeader(mail: ParsedMail, name: string): string {
  const line = mail.headerLines.find((h) => h.key === name);
  return line ? line.line.slice(line.line.indexOf(':') + 1).replace(/\r?\n\s+/g, ' ').trim() : '';
}

const READERS = [
  { email: 'ada@example.org', topics: ['neural collapse', 'adversarial'] },
  { email: 'kurt@example.org', topics: ['"reinforcement learning"', 'pruning'] },
  { email: 'nobody@example.org', topics: ['"protein folding"'] },
];

/** What the engine says a reader should get for a page, as the job sees it (stats of the papers stored so far). */
function expectedTitles(topics: string[], pagePapers: { title: string; abstract: string }[], collection: { title: string; abstract: string }[]): Set<string> {
  const asEngine = (ps: { title: string; abstract: string }[]) => ps.map((p, i) => ({ id: String(i), ...p }));
  const papers = asEngine(pagePapers);
  const result = matchPapers(
    compileTopics(topics.map((q, i) => ({ id: String(i), query: q }))),
    papers,
    InMemoryStats.fromPapers(asEngine(collection)),
  );
  return new Set([...result.values()].flat().map((m) => papers[Number(m.paperId)].title));
}

describe('pipeline: ingest → match → deliver (real PostgreSQL, Redis and SMTP)', () => {
  let db: TestDatabase;
  let smtp: SmtpCapture;
  let t: TestApp;

  beforeAll(async () => {
    db = await createTestDatabase();
    smtp = await SmtpCapture.start();
    t = await startTestApp({ DATABASE_URL: db.url, SMTP_URL: smtp.url });
    const subscribers = t.app.get(SubscribersService);
    for (const r of READERS) await subscribers.addOrUpdate({ ...r, status: 'active', consentSource: 'test' });
  });

  afterAll(async () => {
    await t?.close();
    await smtp?.stop();
    await db?.drop();
  });

  const settled = async () =>
    withClient(db.url, async (c) => {
      const { rows } = await c.query(
        `SELECT (SELECT count(*) FROM digest WHERE status <> 'composed')::int AS open,
                (SELECT count(*) FROM delivery WHERE status IN ('pending','sending','retry'))::int AS inflight`,
      );
      return rows[0].open === 0 && rows[0].inflight === 0;
    });

  it('emails each reader exactly the papers their topics match, once', async () => {
    const res = await request(t.url).post('/api/digests/import').set('Content-Type', 'text/plain').send(page(0)).expect(201);
    expect(res.body).toMatchObject({ created: true, papers: 62, newPapers: 62, source: 'daily-papers' });
    await waitFor('the first digest to be delivered', settled);

    const papers = digestFromPage(page(0)).papers;
    for (const r of READERS) {
      const expected = expectedTitles(r.topics, papers, papers);
      const mails = smtp.to(r.email);
      if (expected.size === 0) {
        expect(mails).toHaveLength(0);
        continue;
      }
      expect(mails).toHaveLength(1);
      const mail = mails[0].parsed;
      const html = String(mail.html);
      const text = flat(mail.text);
      for (const title of expected) expect(text).toContain(title);
      // exactly those: every title of the page that is in the email is an expected one
      for (const p of papers) if (!expected.has(p.title)) expect(text.includes(p.title) || html.includes(escapeHtml(p.title))).toBe(false);
      expect(mail.subject).toMatch(new RegExp(`^${expected.size} new papers? for “`));
      const unsubscribe = rawHeader(mail, 'list-unsubscribe');
      expect(unsubscribe).toMatch(/^<https:\/\/papers\.example\.org\/unsubscribe\/[^>]+>$/);
      expect(rawHeader(mail, 'list-unsubscribe-post')).toBe('List-Unsubscribe=One-Click');
      expect(mail.messageId).toMatch(/^<delivery-\d+\.[0-9a-f]{16}@paperboy\.localhost>$/);
    }
    expect(flat(smtp.to('ada@example.org')[0].parsed.text)).toContain('Perturbation Analysis of Neural Collapse');
  });

  it('re-ingesting the same page is a no-op and sends nothing', async () => {
    const before = await tableCounts(db.url);
    const sent = smtp.messages.length;
    const res = await request(t.url).post('/api/digests/import').set('Content-Type', 'text/plain').send(page(0)).expect(200);
    expect(res.body).toMatchObject({ created: false, newPapers: 0 });
    await new Promise((r) => setTimeout(r, 1500));
    expect(await tableCounts(db.url)).toEqual(before);
    expect(smtp.messages.length).toBe(sent);
  });

  it('a paper on two pages is sent once', async () => {
    const adaBefore = smtp.to('ada@example.org').length;
    await request(t.url).post('/api/digests/import').set('Content-Type', 'text/plain').send(page(1)).expect(201);
    await waitFor('the second digest to be delivered', settled);
    const adaMails = smtp.to('ada@example.org');
    const all = adaMails.map((m) => flat(m.parsed.text));
    expect(all.filter((text) => text.includes('Perturbation Analysis of Neural Collapse'))).toHaveLength(1);
    // and the second page (which carries it again) still reached ada if anything else matched
    expect(adaMails.length).toBeGreaterThanOrEqual(adaBefore);
    const rows = await withClient(db.url, (c) =>
      c.query(`SELECT count(*)::int AS n FROM match m JOIN paper p ON p.id = m.paper_id WHERE p.title = 'Perturbation Analysis of Neural Collapse'`),
    );
    expect(rows.rows[0].n).toBe(1);
  });

  it('rejects a malformed page with the line, and stores nothing', async () => {
    const before = await tableCounts(db.url);
    const broken = page(2).trimEnd() + '\n\nA title whose abstract is missing\n';
    const res = await request(t.url).post('/api/digests/import').set('Content-Type', 'text/plain').send(broken).expect(400);
    expect(res.body.message).toMatch(/^line \d+: the paper "A title whose abstract is missing" has no abstract after it$/);
    const res2 = await request(t.url).post('/api/digests/import').set('Content-Type', 'text/plain').send('hello\n\nworld').expect(400);
    expect(res2.body.message).toMatch(/no date line found/);
    expect(await tableCounts(db.url)).toEqual(before);
  });

  it('rejects malformed JSON digests with the field, and stores nothing', async () => {
    const before = await tableCounts(db.url);
    const ok = { title: 'A valid paper', abstract: 'With a valid abstract.' };
    const bad = await request(t.url)
      .post('/api/digests')
      .send({ date: '2025-03-14', papers: [ok, { title: 'No abstract' }] })
      .expect(400);
    expect(bad.body.message).toMatch(/^papers\[1\]\.abstract: /);
    const syntax = await request(t.url).post('/api/digests').set('Content-Type', 'application/json').send('{"date": "2025-03-14", "papers": [').expect(400);
    expect(JSON.stringify(syntax.body)).toMatch(/JSON/i);
    await request(t.url).post('/api/digests').set('Content-Type', 'text/csv').send('a,b').expect(415);
    expect(await tableCounts(db.url)).toEqual(before);
  });

  it('accepts a JSON digest and reports re-ingest as a no-op', async () => {
    const body = {
      date: '2025-03-14',
      source: 'api-test',
      papers: [{ title: 'Pruning Transformers Without Retraining', abstract: 'We study structured pruning of transformers.', arxivId: '2503.00001v2' }],
    };
    const first = await request(t.url).post('/api/digests').send(body).expect(201);
    expect(first.body).toMatchObject({ created: true, date: '2025-03-14', papers: 1, newPapers: 1 });
    await request(t.url).post('/api/digests').send(body).expect(200);
    await waitFor('the JSON digest to be delivered', settled);
    const kurt = smtp.to('kurt@example.org').map((m) => m.parsed);
    const last = kurt[kurt.length - 1];
    expect(flat(last.text)).toContain('Pruning Transformers Without Retraining');
    expect(String(last.html)).toContain('https://arxiv.org/abs/2503.00001');
  });

  it('one-click unsubscribe: GET changes nothing, POST stops further email', async () => {
    const mail = smtp.to('kurt@example.org')[0].parsed;
    const link = rawHeader(mail, 'list-unsubscribe').slice(1, -1);
    const path = new URL(link).pathname;
    const status = async () =>
      (await withClient(db.url, (c) => c.query(`SELECT status FROM subscriber WHERE email = 'kurt@example.org'`))).rows[0].status;

    const get = await request(t.url).get(path).expect(200);
    expect(get.text).toContain('<form method="post"');
    expect(await status()).toBe('active');
    const post = await request(t.url).post(path).type('form').send('List-Unsubscribe=One-Click').expect(200);
    expect(post.text).toContain('You are unsubscribed');
    expect(await status()).toBe('unsubscribed');

    const bad = await request(t.url).post(path.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'))).expect(200);
    expect(bad.text).toContain('This link is not valid');

    const before = smtp.to('kurt@example.org').length;
    const body = { date: '2025-03-15', papers: [{ title: 'Magnitude Pruning Revisited', abstract: 'Pruning, again, with reinforcement learning.' }] };
    await request(t.url).post('/api/digests').send(body).expect(201);
    await waitFor('the last digest', settled);
    expect(smtp.to('kurt@example.org')).toHaveLength(before);
  });

  it('reports PostgreSQL and Redis health', async () => {
    const res = await request(t.url).get('/health').expect(200);
    expect(res.body).toMatchObject({ status: 'ok', info: { postgres: { status: 'up' }, redis: { status: 'up' } } });
  });
});
