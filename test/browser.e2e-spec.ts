import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ParsedMail } from 'mailparser';
import type { Browser, Page } from 'playwright-core';
import request from 'supertest';
import { DESKTOP, launchChromium, PHONE } from './helpers/browser';
import { SmtpCapture } from './helpers/smtp-capture';
import { startTestApp, TestApp, waitFor } from './helpers/test-app';
import { createTestDatabase, TestDatabase, withClient } from './helpers/test-db';

const SEED = readFileSync(join(__dirname, '../prisma/seed-digests/000_41eb20fd0f437e65.txt'), 'utf8');

function rawHeader(mail: ParsedMail, name: string): string {
  const line = mail.headerLines.find((h) => h.key === name);
  return line ? line.line.slice(line.line.indexOf(':') + 1).replace(/\r?\n\s+/g, ' ').trim() : '';
}

/** A link of an email, as the reader's browser would open it: same path, on the test server. */
function local(t: TestApp, link: string): string {
  const u = new URL(link);
  return `${t.url}${u.pathname}${u.search}`;
}

describe('the reader in a real browser (headless Chromium): subscribe → confirm → digest → manage → unsubscribe', () => {
  let db: TestDatabase;
  let smtp: SmtpCapture;
  let t: TestApp;
  let browser: Browser;

  beforeAll(async () => {
    db = await createTestDatabase();
    smtp = await SmtpCapture.start();
    t = await startTestApp({ DATABASE_URL: db.url, SMTP_URL: smtp.url, RATE_LIMIT_PUBLIC_PER_MINUTE: '100000', RATE_LIMIT_PREVIEW_PER_MINUTE: '100000' });
    // Recent papers for the preview (and for nobody's digest yet: nobody is subscribed).
    await request(t.url).post('/api/digests/import').set('Content-Type', 'text/plain').send(SEED).expect(201);
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await smtp?.stop();
    await db?.drop();
  });

  const settled = () =>
    waitFor('the pipeline to settle', async () =>
      withClient(db.url, async (c) => {
        const { rows } = await c.query(
          `SELECT (SELECT count(*) FROM digest WHERE status <> 'composed')::int AS open,
                  (SELECT count(*) FROM delivery WHERE status IN ('pending','sending','retry'))::int AS inflight`,
        );
        return rows[0].open === 0 && rows[0].inflight === 0;
      }),
    );

  async function expectAccessible(page: Page) {
    expect(await page.getAttribute('html', 'lang')).toBe('en');
    expect(await page.locator('h1').count()).toBe(1);
    // every form control has a label
    const unlabelled = await page.$$eval('input:not([type=hidden]), select, textarea', (els) =>
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- runs in the page (DOM types are not in this project's lib)
      els.filter((el: any) => !el.labels?.length && !el.getAttribute('aria-label')).map((el: any) => el.outerHTML as string),
    );
    expect(unlabelled).toEqual([]);
    // nothing wider than the viewport (no horizontal scrolling on a phone)
    const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
    expect(overflow).toBeLessThanOrEqual(0);
  }

  it('takes a reader from the form to their first digest and out again', async () => {
    const context = await browser.newContext({ viewport: PHONE, timezoneId: 'Europe/Paris', locale: 'en-GB' });
    const page = await context.newPage();
    const email = 'reader@example.org';

    // 1. Subscribe, with the live preview and the browser's time zone
    await page.goto(`${t.url}/`);
    await expectAccessible(page);
    expect(await page.inputValue('#timezone')).toBe('Europe/Paris');
    await page.fill('#email', email);
    await page.fill('#topics', 'neural collapse\n"unclosed');
    await page.locator('#preview-body .alert-preview').first().waitFor();
    await waitFor('the live preview', async () => (await page.textContent('#preview-body'))?.includes('Perturbation Analysis of Neural Collapse'));
    expect(await page.textContent('#preview-body')).toContain('unbalanced quotes'); // the query language's own message
    await page.click('button[type=submit]:not([name])');
    // the server answers the invalid alert beside the field, keeping what was typed
    expect(page.url()).toBe(`${t.url}/subscribe`);
    expect(await page.textContent('#topics-error')).toContain('unbalanced quotes');
    expect(await page.inputValue('#email')).toBe(email);
    await page.fill('#topics', 'neural collapse');
    await page.click('label.choice:has-text("Instant")');
    await page.click('button[type=submit]:not([name])');
    await page.waitForURL(`${t.url}/check-inbox`);
    expect(await page.textContent('h1')).toBe('Check your inbox');

    // 2. Confirm from the email: the link opens a page, the button confirms
    const confirmation = await waitFor('the confirmation email', async () => smtp.to(email)[0]);
    const link = /<(https:\/\/[^>\s]+\/confirm\/[^>\s]+)>/.exec(confirmation.parsed.text ?? '')![1];
    await page.goto(local(t, link));
    await expectAccessible(page);
    expect(await page.textContent('h1')).toBe('Confirm your alerts');
    await page.click('text=Confirm my alerts');
    await page.waitForSelector('text=You are subscribed');

    // 3. A digest arrives
    await request(t.url)
      .post('/api/digests')
      .send({ date: '2025-03-20', source: 'browser-test', papers: [{ title: 'Neural Collapse in Deep Classifiers, Revisited', abstract: 'We revisit neural collapse at the terminal phase of training.' }] })
      .expect(201);
    await settled();
    const digest = await waitFor('the digest', async () => smtp.to(email).find((m) => rawHeader(m.parsed, 'list-unsubscribe')));
    expect(digest.parsed.subject).toMatch(/new paper/);
    expect(rawHeader(digest.parsed, 'list-unsubscribe-post')).toBe('List-Unsubscribe=One-Click');

    // 4. The preference centre, from the digest's "Manage your alerts" link
    const manage = /href="(https:\/\/papers\.example\.org\/manage\/[^"]+)"/.exec(String(digest.parsed.html))![1];
    await page.goto(local(t, manage));
    await expectAccessible(page);
    expect(await page.inputValue('#topics')).toBe('neural collapse');
    await page.fill('#topics', 'pruning\ntitle:transformers');
    await page.click('label.choice:has-text("Weekly")');
    await page.click('text=Save changes');
    await page.waitForSelector('text=Your changes are saved.');
    const row = await withClient(db.url, (c) => c.query(`SELECT s.frequency, s.timezone, array_agg(t.label ORDER BY t.label) AS topics FROM subscriber s JOIN subscriber_topic t ON t.subscriber_id = s.id WHERE s.email = $1 GROUP BY 1, 2`, [email]));
    expect(row.rows[0]).toEqual({ frequency: 'weekly', timezone: 'Europe/Paris', topics: ['pruning', 'title:transformers'] });
    // back to instant so the next digest would go out at once, were the reader still subscribed
    await page.click('label.choice:has-text("Instant")');
    await page.click('text=Save changes');
    await page.waitForSelector('text=Your changes are saved.');

    // 5. One-click unsubscribe: the footer link shows a button; pressing it unsubscribes
    const footerUnsubscribe = /href="(https:\/\/papers\.example\.org\/unsubscribe\/[^"]+)"/.exec(String(digest.parsed.html))![1];
    expect(`<${footerUnsubscribe}>`).toBe(rawHeader(digest.parsed, 'list-unsubscribe'));
    await page.goto(local(t, footerUnsubscribe));
    await expectAccessible(page);
    await page.click('button:has-text("Unsubscribe")');
    await page.waitForSelector('text=You are unsubscribed');
    expect(await page.isVisible('text=Re-subscribe with one click')).toBe(true);

    // 6. No further email
    const count = smtp.to(email).length;
    await request(t.url)
      .post('/api/digests')
      .send({ date: '2025-03-21', source: 'browser-test', papers: [{ title: 'Structured Pruning of Transformers', abstract: 'Pruning transformers without retraining.' }] })
      .expect(201);
    await settled();
    await new Promise((r) => setTimeout(r, 500));
    expect(smtp.to(email)).toHaveLength(count);
    await context.close();
  });

  it('works without JavaScript at desktop width (server-side preview, form, validation)', async () => {
    const context = await browser.newContext({ viewport: DESKTOP, javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto(`${t.url}/`);
    await expectAccessible(page);
    await page.fill('#topics', 'neural collapse');
    await page.click('button[name=action][value=preview]');
    expect(await page.textContent('#preview-body')).toContain('Perturbation Analysis of Neural Collapse');
    await page.fill('#email', 'nojs@example.org');
    await page.click('button[type=submit]:not([name])');
    await page.waitForURL(`${t.url}/check-inbox`);
    await waitFor('the confirmation email', async () => smtp.to('nojs@example.org')[0]);
    await context.close();
  });
});
