/**
 * Screenshots of every self-service page and email, at phone (390 px) and desktop (1280 px)
 * width, from the real app in headless Chromium: `npm run screenshots` → var/screenshots/*.png.
 * Needs PostgreSQL and Redis as for the tests (TEST_DATABASE_URL / TEST_REDIS_URL).
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { runPrismaCli } from '../src/infra/prisma/migrate';
import { DESKTOP, launchChromium, PHONE } from '../test/helpers/browser';
import { SmtpCapture } from '../test/helpers/smtp-capture';
import { startTestApp, TestApp, waitFor } from '../test/helpers/test-app';
import { adminQuery, databaseUrl } from '../test/helpers/test-db';

const ROOT = resolve(__dirname, __dirname.includes(`${join('dist', 'scripts')}`) ? '../..' : '..');
const OUT = join(ROOT, 'var', 'screenshots');
const SEED = readFileSync(join(ROOT, 'prisma/seed-digests/000_41eb20fd0f437e65.txt'), 'utf8');

async function post(t: TestApp, path: string, body: string | object, type = 'application/json'): Promise<void> {
  const res = await fetch(`${t.url}${path}`, { method: 'POST', headers: { 'Content-Type': type }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  if (res.status >= 400) throw new Error(`${path}: ${res.status} ${await res.text()}`);
}

const local = (t: TestApp, link: string) => `${t.url}${new URL(link).pathname}`;

async function shoot(page: Page, name: string, size: 'phone' | 'desktop'): Promise<void> {
  await page.waitForLoadState('networkidle');
  await page.screenshot({ path: join(OUT, `${name}-${size}.png`), fullPage: true });
  console.log(`  ${name}-${size}.png`);
}

async function walk(browser: Browser, t: TestApp, smtp: SmtpCapture, size: 'phone' | 'desktop'): Promise<void> {
  const context = await browser.newContext({ viewport: size === 'phone' ? PHONE : DESKTOP, timezoneId: 'Europe/Paris', locale: 'en-GB', deviceScaleFactor: size === 'phone' ? 2 : 1 });
  const page = await context.newPage();
  const email = `${size}@example.org`;

  await page.goto(`${t.url}/`);
  await shoot(page, '01-subscribe-empty', size);
  await page.fill('#email', email);
  await page.fill('#topics', 'neural collapse\n"reinforcement learning" -survey\ntitle:(pruning');
  await waitFor('the live preview', async () => ((await page.textContent('#preview-body')) ?? '').includes('Neural Collapse'));
  await shoot(page, '02-subscribe-preview', size);
  await page.click('button[type=submit]:not([name])');
  await page.waitForSelector('#topics-error');
  await shoot(page, '03-subscribe-errors', size);
  await page.fill('#topics', 'neural collapse\n"reinforcement learning" -survey');
  await page.click('label.choice:has-text("Instant")');
  await page.click('button[type=submit]:not([name])');
  await page.waitForURL(`${t.url}/check-inbox`);
  await shoot(page, '04-check-inbox', size);

  const confirmation = await waitFor('the confirmation email', async () => smtp.to(email)[0]);
  await page.setContent(String(confirmation.parsed.html));
  await shoot(page, '05-email-confirm', size);
  const link = /<(https:\/\/[^>\s]+\/confirm\/[^>\s]+)>/.exec(confirmation.parsed.text ?? '')![1];
  await page.goto(local(t, link));
  await shoot(page, '06-confirm', size);
  await page.click('text=Confirm my alerts');
  await page.waitForSelector('text=You are subscribed');
  await shoot(page, '07-confirmed', size);

  await post(t, '/api/digests', {
    date: '2025-03-20',
    source: `screenshots-${size}`,
    papers: [
      { title: 'Neural Collapse in Deep Classifiers, Revisited', abstract: 'We revisit neural collapse at the terminal phase of training and show when it fails under label noise.', arxivId: '2503.01234', authors: ['A. Researcher', 'B. Scientist'] },
      { title: 'Offline Reinforcement Learning with Conservative Critics', abstract: 'A reinforcement learning method that stays close to the data.', authors: ['C. Author'] },
    ],
  });
  const digest = await waitFor('the digest', async () => smtp.to(email).find((m) => /new paper/.test(m.parsed.subject ?? '')), 30_000);
  await page.setContent(String(digest.parsed.html));
  await shoot(page, '08-email-digest', size);

  const manage = /href="(https:\/\/[^"]+\/manage\/[^"]+)"/.exec(String(digest.parsed.html))![1];
  await page.goto(local(t, manage));
  await shoot(page, '09-manage', size);
  await page.fill('#topics', 'pruning\ntitle:transformers');
  await page.click('label.choice:has-text("Weekly")');
  await page.click('text=Save changes');
  await page.waitForSelector('text=Your changes are saved.');
  await shoot(page, '10-manage-saved', size);

  const unsubscribe = /href="(https:\/\/[^"]+\/unsubscribe\/[^"]+)"/.exec(String(digest.parsed.html))![1];
  await page.goto(local(t, unsubscribe));
  await shoot(page, '11-unsubscribe', size);
  await page.click('button:has-text("Unsubscribe")');
  await page.waitForSelector('text=You are unsubscribed');
  await shoot(page, '12-unsubscribed', size);
  await page.click('text=Re-subscribe with one click');
  await page.waitForSelector('text=Welcome back');
  await shoot(page, '13-resubscribed', size);

  await page.goto(`${t.url}/manage/not-a-valid-token`);
  await shoot(page, '14-invalid-link', size);
  await page.goto(local(t, manage));
  await page.check('input[name=confirm]');
  await page.click('button:has-text("Delete my data")');
  await page.waitForSelector('text=Your data is deleted');
  await shoot(page, '15-erased', size);
  await context.close();
}

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  const name = `paperboy_screenshots_${process.pid}`;
  await adminQuery(`CREATE DATABASE "${name}"`);
  const smtp = await SmtpCapture.start();
  let t: TestApp | undefined;
  let browser: Browser | undefined;
  try {
    await runPrismaCli(['migrate', 'deploy'], databaseUrl(name));
    t = await startTestApp({ DATABASE_URL: databaseUrl(name), SMTP_URL: smtp.url, LOG_LEVEL: 'error' });
    await post(t, '/api/digests/import', SEED, 'text/plain');
    browser = await launchChromium();
    for (const size of ['phone', 'desktop'] as const) await walk(browser, t, smtp, size);
    console.log(`screenshots in ${OUT}`);
  } finally {
    await browser?.close();
    await t?.close();
    await smtp.stop();
    await adminQuery(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
