import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { createAdmin, ADMIN_EMAIL, ADMIN_PASSWORD } from './admin-helpers';
import { DESKTOP, launchChromium } from './helpers/browser';
import { seedMatches } from './helpers/seed';
import { SmtpCapture } from './helpers/smtp-capture';
import { startTestApp, TestApp, waitFor } from './helpers/test-app';
import { createTestDatabase, TestDatabase, withClient } from './helpers/test-db';

/** Screens of the admin console, saved as var/screenshots/admin-NN-*.png (`npm run screenshots:admin`). */
const SHOTS = join(__dirname, '..', 'var', 'screenshots');

describe('admin console in a real browser (headless Debian Chromium)', () => {
  let db: TestDatabase;
  let smtp: SmtpCapture;
  let t: TestApp;
  let browser: Browser;
  let page: Page;
  const dialogs: string[] = [];
  const shot = (name: string) => page.screenshot({ path: join(SHOTS, `admin-${name}.png`), fullPage: true });

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    db = await createTestDatabase();
    smtp = await SmtpCapture.start();
    t = await startTestApp({ DATABASE_URL: db.url, SMTP_URL: smtp.url, SEND_BACKOFF_MS: '50', PUBLIC_URL: 'http://localhost' }, { workers: true });
    await createAdmin(t.app);
    await seedMatches(db.url, [
      { email: 'ada.lovelace@analytical.example.org', papers: 4 },
      { email: 'grace.hopper@navy.example.org', papers: 2 },
      { email: 'mallory@example.net', papers: 1 },
    ]);
    await withClient(db.url, async (c) => {
      await c.query(`UPDATE paper SET title = $1 WHERE id = (SELECT m.paper_id FROM match m JOIN subscriber s ON s.id = m.subscriber_id WHERE s.email = 'mallory@example.net')`, [`Attention <script>alert('xss')</script><img src=x onerror="alert(1)"> is all you need`]);
      const topics = ['diffusion models', 'graph neural networks', 'protein folding', 'reinforcement learning', 'retrieval augmented generation'];
      for (const q of topics) await c.query(`INSERT INTO topic (query) VALUES ($1) ON CONFLICT DO NOTHING`, [q]);
      await c.query(`
        INSERT INTO subscriber (id, email, status, frequency, created_at, updated_at, confirmed_at, consent_source)
        SELECT gen_random_uuid(), 'reader' || g || '@' || (ARRAY['uni.example.edu','lab.example.org','mail.example.com'])[1 + g % 3],
               (CASE WHEN g % 17 = 0 THEN 'unsubscribed' WHEN g % 23 = 0 THEN 'pending' ELSE 'active' END)::subscriber_status,
               (ARRAY['instant','daily','weekly'])[1 + g % 3]::frequency, now() - g * interval '5 minutes', now(), now(), 'form'
        FROM generate_series(1, 4000) g`);
      await c.query(`INSERT INTO subscriber_topic (subscriber_id, topic_id, label)
        SELECT s.id, t.id, t.query FROM subscriber s JOIN topic t ON t.id = (SELECT min(id) FROM topic) + (abs(hashtext(s.email)) % 5) WHERE s.email LIKE 'reader%'`);
      await c.query(`INSERT INTO subscriber_topic (subscriber_id, topic_id, label) SELECT s.id, t.id, t.query FROM subscriber s, topic t WHERE s.email LIKE 'ada.%' AND t.query = 'diffusion models'`);
    });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: DESKTOP });
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
  }, 90_000);
  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await smtp?.stop();
    await db?.drop();
  });

  it('logs in, finds a subscriber among thousands, edits them, imports a CSV, previews, test-sends, sends and watches the log', async () => {
    await page.goto(`${t.url}/admin/subscribers`);
    expect(page.url()).toContain('/admin/login');
    await shot('01-login');
    await page.fill('#email', ADMIN_EMAIL);
    await page.fill('#password', ADMIN_PASSWORD);
    await page.click('button:has-text("Log in")');
    await page.waitForURL(/\/admin\/subscribers$/);
    expect(await page.locator('tbody tr').count()).toBe(50);
    await shot('02-subscribers');

    await page.fill('#q', 'lovelace');
    await page.click('button:has-text("Search")');
    await page.waitForURL(/q=lovelace/);
    expect(await page.locator('tbody tr').count()).toBe(1);
    await shot('03-search');

    await page.click('a:has-text("ada.lovelace@analytical.example.org")');
    await page.waitForSelector('h1:has-text("ada.lovelace")');
    await page.selectOption('#frequency', 'weekly');
    await page.fill('#topics', 'diffusion models\nscore-based generative models');
    await page.click('button:has-text("Save")');
    await page.waitForSelector('.alert.ok:has-text("Saved")');
    expect(await page.inputValue('#topics')).toBe('diffusion models\nscore-based generative models');
    await shot('04-subscriber');

    await page.goto(`${t.url}/admin/import`);
    await shot('05-import-form');
    const csv = ['email,topics,frequency', 'new.reader@uni.example.edu,diffusion models,daily', 'not an address,diffusion models,', 'second@uni.example.edu,"(broken",', 'NEW.READER@uni.example.edu,protein folding,', 'reader3@uni.example.edu,protein folding,'].join('\n');
    await page.setInputFiles('#file', { name: 'list.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    await page.check('input[name=mode][value=opt-in]');
    await page.click('button:has-text("Check the file")');
    await page.waitForSelector('h1:has-text("CSV import")');
    const report = await page.locator('main').innerText();
    expect(report).toMatch(/3\s+"not an address" is not a valid address/);
    expect(report).toMatch(/4\s+topics\[0\]/);
    expect(report).toMatch(/5\s+new\.reader@uni\.example\.edu is also on line 2/);
    expect(report).toMatch(/6\s+reader3@uni\.example\.edu is already a subscriber/);
    await shot('06-import-report');
    await page.click('button:has-text("Import 1 row")');
    await page.waitForSelector('.alert.ok:has-text("1 of 1 row(s) imported")', { timeout: 15_000 });
    await shot('07-import-done');

    await page.goto(`${t.url}/admin/sends/dry-run`);
    expect(await page.locator('.kpi b').first().innerText()).toBe('3'); // ada, grace and mallory: send now ignores cadence
    await shot('08-dry-run');
    await page.click('tr:has-text("mallory@example.net") a:has-text("Preview")');
    await page.waitForSelector('iframe.preview');
    const frame = page.frameLocator('iframe.preview');
    await frame.locator('a:has-text("is all you need")').first().waitFor({ state: 'visible' });
    expect(await frame.locator('script').count()).toBe(0); // the title is text inside the frame
    expect(await page.getAttribute('iframe.preview', 'sandbox')).toBe('');
    await shot('09-preview');
    await page.fill('#to', 'editor@example.com');
    await page.click('button:has-text("Send test")');
    await page.waitForSelector('.alert.ok:has-text("Test email sent to editor@example.com")');
    await waitFor('the test email', async () => smtp.to('editor@example.com').length === 1);
    await shot('10-test-sent');

    await page.goto(`${t.url}/admin/sends/dry-run`);
    await page.click('button:has-text("now")');
    await page.waitForURL(/\/admin\/deliveries\?issue=manual-/);
    await waitFor(
      'the log to show every email sent',
      async () => {
        await page.reload();
        const text = await page.locator('tbody').innerText();
        return !/pending|sending|retry/.test(text) && (text.match(/\bsent\b/g) ?? []).length >= 3;
      },
      20_000,
    );
    await shot('11-delivery-log');
    expect(smtp.to('mallory@example.net')).toHaveLength(1);

    await page.goto(`${t.url}/admin`);
    expect(await page.locator('svg').count()).toBeGreaterThanOrEqual(3);
    await shot('12-dashboard');
    await page.goto(`${t.url}/admin/digests`);
    await shot('13-digests');
    await page.goto(`${t.url}/admin/sends`);
    await shot('14-sends');
    await page.goto(`${t.url}/admin/tokens`);
    await page.fill('#name', 'nightly export');
    await page.click('button:has-text("Create token")');
    await page.waitForSelector('#new-token code');
    await shot('15-tokens');
    await page.goto(`${t.url}/admin/queues`);
    await page.waitForSelector('text=send', { timeout: 15_000 });
    await shot('16-queues');

    // No script ever ran from the hostile paper title (in the list, the preview or anywhere else).
    expect(dialogs).toEqual([]);
  });
});
