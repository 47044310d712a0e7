import { spawnSync } from 'node:child_process';
import { doIUseEmail } from '@jsx-email/doiuse-email';
import request from 'supertest';
import { SmtpCapture } from './helpers/smtp-capture';
import { startTestApp, TestApp, waitFor } from './helpers/test-app';
import { createTestDatabase, TestDatabase, withClient } from './helpers/test-db';

/**
 * The emails as they leave over SMTP (confirmation and digest) pass SpamAssassin (Debian's
 * `spamassassin`, local rules only: no network tests) with a score below 2.0, and an email-client
 * CSS/HTML compatibility lint (caniemail data via @jsx-email/doiuse-email).
 */

const CLIENTS = ['gmail.*', 'outlook.*', 'apple-mail.*', 'yahoo.*'];

/**
 * What the lint reports for MJML's own scaffolding, which degrades gracefully by design: the
 * responsive <style> block (selectors, @media) is an enhancement over inline styles; the hidden
 * preheader uses display:none/opacity/overflow/word-spacing; layout tables carry role and
 * aria-label; clients that drop <body>, outline, border-radius or target simply ignore them.
 * Anything outside this list (say, a `position` or `flex` in a template) fails the test.
 */
const MJML_BASELINE = new Set([
  'Descendant combinator',
  'ID selector',
  'Type selector',
  'Class selector',
  'Chaining selectors',
  '@media',
  'outline',
  '<body> element',
  'word-spacing',
  'display:none',
  'opacity',
  'overflow',
  'aria-label attribute',
  'role attribute',
  'word-break',
  'border-radius',
  'target attribute',
]);

function spamScore(raw: Buffer): { score: number; report: string } {
  const r = spawnSync('spamassassin', ['-L', '-t'], { input: raw, encoding: 'utf8', timeout: 30_000 });
  if (r.error) throw new Error(`spamassassin could not run (apt-get install spamassassin): ${r.error.message}`);
  const m = /^X-Spam-Status: \w+, score=(-?[\d.]+)/m.exec(r.stdout);
  if (!m) throw new Error(`no X-Spam-Status in spamassassin output:\n${r.stdout.slice(0, 2000)}\n${r.stderr}`);
  const report = r.stdout.slice(r.stdout.indexOf('Content analysis details')).split('\n').slice(0, 30).join('\n');
  return { score: Number(m[1]), report };
}

function lintErrors(html: string): string[] {
  const res = doIUseEmail(html, { emailClients: CLIENTS });
  if (res.success) return [];
  return res.errors.filter((e) => {
    const feature = /^`(.+?)` is not supported by/.exec(e)?.[1];
    return !feature || !MJML_BASELINE.has(feature);
  });
}

describe('email quality: SpamAssassin score and client compatibility', () => {
  let db: TestDatabase;
  let smtp: SmtpCapture;
  let t: TestApp;
  const email = 'quality@example.org';

  beforeAll(async () => {
    db = await createTestDatabase();
    smtp = await SmtpCapture.start();
    t = await startTestApp({ DATABASE_URL: db.url, SMTP_URL: smtp.url, MAIL_FROM: 'Paperboy <alerts@papers.example.org>' });
    await request(t.url).post('/api/subscriptions').send({ email, topics: ['neural collapse'], frequency: 'instant' }).expect(202);
    const confirmation = await waitFor('the confirmation', async () => smtp.to(email)[0]);
    const token = decodeURIComponent(/\/confirm\/([^>\s]+)>/.exec(confirmation.parsed.text ?? '')![1]);
    await request(t.url).post('/api/confirmations').send({ token }).expect(200);
    await request(t.url)
      .post('/api/digests')
      .send({
        date: '2025-03-20',
        papers: [
          { title: 'Neural Collapse in Deep Classifiers, Revisited', abstract: 'We revisit neural collapse at the terminal phase of training and show when it fails under label noise, with experiments on CIFAR and ImageNet.', arxivId: '2503.01234', authors: ['Ada Lovelace', 'Kurt Gödel'] },
        ],
      })
      .expect(201);
    await waitFor('the digest', async () => smtp.to(email)[1]);
    await waitFor('the delivery row', async () => withClient(db.url, async (c) => (await c.query(`SELECT 1 FROM delivery WHERE status = 'sent'`)).rowCount));
  });

  afterAll(async () => {
    await t?.close();
    await smtp?.stop();
    await db?.drop();
  });

  it.each([
    ['confirmation', 0],
    ['digest', 1],
  ])('the %s email scores below 2.0 in SpamAssassin', (_name, i) => {
    const { score, report } = spamScore(smtp.to(email)[i].raw);
    if (score >= 2.0) console.log(report);
    expect(score).toBeLessThan(2.0);
  });

  it.each([
    ['confirmation', 0],
    ['digest', 1],
  ])('the %s email raises no client-compatibility errors beyond MJML scaffolding', (_name, i) => {
    expect(lintErrors(String(smtp.to(email)[i].parsed.html))).toEqual([]);
  });

  it('the lint does catch unsupported CSS (the check can fail)', () => {
    expect(lintErrors('<html><body><div style="position:fixed;display:flex">x</div></body></html>').length).toBeGreaterThan(0);
  });
});
