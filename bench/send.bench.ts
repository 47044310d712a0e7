/**
 * Delivery throughput: N personalised digests (10 papers each) through the real pipeline —
 * queue (BullMQ on Redis) → conditional claim → render (precompiled MJML) → pooled SMTP to a
 * discard sink in a separate process on loopback → recorded in PostgreSQL — in this process.
 * In the same run: the raw limit (one pre-built MIME sent N times through the same transport
 * pool) and a naive baseline (mjml2html per email + a new SMTP connection per email, sampled).
 *
 * Run: npm run --silent bench:send -- [--json] [--emails 20000] [--concurrency 64] [--pool 8] [--naive-sample 200]
 * Uses its own database (paperboy_bench_send) and queue prefix, dropped/deleted at the end.
 * The last line printed is one JSON object with the figures.
 */
import { randomBytes } from 'node:crypto';
import { deleteKeys } from '../test/helpers/test-app';
import mjml2html from 'mjml';
import nodemailer from 'nodemailer';
import MailComposer from 'nodemailer/lib/mail-composer';
import { createContext } from '../src/bootstrap';
import { AppConfig } from '../src/config/app-config';
import { MailTransport } from '../src/infra/mail/mail-transport.service';
import { ComposerService } from '../src/mailer/composer.service';
import { TemplateRenderer } from '../src/mailer/template-renderer';
import { argNum, dropDatabase, freshDatabase, seed, sleep, sql, startSink } from './bench-support';

const EMAILS = argNum('emails', 20_000);
const PAPERS_PER_EMAIL = 10;
const CONCURRENCY = argNum('concurrency', 64);
const POOL = argNum('pool', 8);
const RAW = argNum('raw', EMAILS);
const NAIVE_SAMPLE = argNum('naive-sample', 200);
const jsonOnly = process.argv.includes('--json');
const log = (s: string) => (jsonOnly ? process.stderr : process.stdout).write(`${s}\n`);

let peakRss = 0;
const rssTimer = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);

async function pool<T>(items: T[], n: number, fn: (t: T) => Promise<unknown>): Promise<void> {
  let i = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (i < items.length) await fn(items[i++]);
  }));
}

function naiveMjml(to: string, papers: { title: string; abstract: string; url: string }[]): string {
  const cards = papers
    .map((p) => `<mj-section><mj-column><mj-text font-size="18px"><a href="${p.url}">${p.title}</a></mj-text><mj-text>${p.abstract}</mj-text></mj-column></mj-section>`)
    .join('');
  return `<mjml><mj-head><mj-title>${papers.length} new papers</mj-title></mj-head><mj-body><mj-section><mj-column><mj-text>Hello ${to}</mj-text></mj-column></mj-section>${cards}</mj-body></mjml>`;
}

async function main(): Promise<void> {
  const dbName = 'paperboy_bench_send';
  const prefix = `pbbench-send-${randomBytes(3).toString('hex')}`;
  const redisUrl = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
  log(`machine: ${require('node:os').cpus().length} cores, node ${process.version}`);
  log(`creating database ${dbName} and seeding ${EMAILS} subscribers × ${PAPERS_PER_EMAIL} matches (set-based)…`);
  const dbUrl = await freshDatabase(dbName);
  let t = Date.now();
  await seed(dbUrl, { subscribers: EMAILS, perSubscriber: PAPERS_PER_EMAIL, papers: 2000 });
  log(`seeded in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  const sink = await startSink();
  const config = AppConfig.fromProcessEnv({
    NODE_ENV: 'test',
    DATABASE_URL: dbUrl,
    REDIS_URL: redisUrl,
    QUEUE_PREFIX: prefix,
    SMTP_URL: `smtp://127.0.0.1:${sink.port}`,
    PUBLIC_URL: 'https://papers.example.org',
    APP_SECRET: 'bench-secret-'.padEnd(40, 'x'),
    LOG_LEVEL: 'error',
    SEND_RATE_PER_SEC: '100000',
    SEND_CONCURRENCY: String(CONCURRENCY),
    SMTP_POOL_SIZE: String(POOL),
    RUN_WORKERS: 'true',
  });
  const app = await createContext(config, { workers: true, quiet: true });
  const result: Record<string, number | string> = {};
  try {
    // --- the pipeline ---
    log(`pipeline: SEND_CONCURRENCY=${CONCURRENCY}, SMTP_POOL_SIZE=${POOL}, SEND_RATE_PER_SEC=100000`);
    const t0 = Date.now();
    const queued = await app.get(ComposerService).sendNow();
    const tQueued = Date.now();
    log(`composed + queued ${queued} deliveries in ${((tQueued - t0) / 1000).toFixed(1)} s`);
    let last = 0;
    for (;;) {
      const [{ sent, failed }] = await sql<{ sent: string; failed: string }>(
        dbUrl,
        `SELECT count(*) FILTER (WHERE status = 'sent') AS sent, count(*) FILTER (WHERE status IN ('failed', 'unknown')) AS failed FROM delivery`,
      );
      if (Number(failed) > 0) throw new Error(`${failed} deliveries failed`);
      if (Number(sent) >= queued) break;
      if (Date.now() - last > 5000) {
        log(`  ${sent} sent, ${(Number(sent) / ((Date.now() - t0) / 1000)).toFixed(0)}/s`);
        last = Date.now();
      }
      await sleep(100);
    }
    const t1 = Date.now();
    const sinkStats = await sink.stats();
    const pipelineSec = (t1 - t0) / 1000;
    result.emails = queued;
    result.emailsPerSec = Math.round(queued / pipelineSec);
    result.sendOnlyPerSec = Math.round(queued / ((t1 - tQueued) / 1000));
    result.avgEmailKb = Math.round(sinkStats.bytes / sinkStats.messages / 1024);
    log(`pipeline: ${queued} emails in ${pipelineSec.toFixed(1)} s = ${result.emailsPerSec}/s (from the first enqueue; ${result.sendOnlyPerSec}/s after queueing), avg ${result.avgEmailKb} KB`);

    // --- the raw limit: identical pre-built MIME through the same transport pool ---
    const renderer = app.get(TemplateRenderer);
    const paper = { title: 'Spectral denoising for message passing on learned graphs', abstract: 'x '.repeat(300), url: 'https://arxiv.org/abs/2611.00001' };
    const view = renderer.renderDigest({
      subject: '10 new papers', preheader: 'p', digestDate: 'Fri 20 November 2026',
      papers: Array.from({ length: 10 }, () => ({ ...paper, authors: 'Ada Lovelace', topics: ['graph neural networks'], why: 'matched', pdfUrl: paper.url })),
      moreCount: 0, moreUrl: null, manageUrl: 'https://papers.example.org/m', unsubscribeUrl: 'https://papers.example.org/u',
      publicUrl: 'https://papers.example.org/', senderName: 'Paperboy', senderAddress: 'digest@paperboy.localhost',
    });
    const raw = await new MailComposer({ from: 'digest@paperboy.localhost', to: 'reader@bench.example.org', subject: view.subject, html: view.html, text: view.text }).compile().build();
    const transport = app.get(MailTransport);
    const envelope = { from: 'digest@paperboy.localhost', to: ['reader@bench.example.org'] };
    const tr0 = Date.now();
    await pool(Array.from({ length: RAW }, (_, i) => i), CONCURRENCY, () => transport.send({ envelope, raw }));
    const rawSec = (Date.now() - tr0) / 1000;
    result.rawLimitPerSec = Math.round(RAW / rawSec);
    result.rawEmailKb = Math.round(raw.length / 1024);
    log(`raw limit: ${RAW} × ${result.rawEmailKb} KB pre-built MIME in ${rawSec.toFixed(1)} s = ${result.rawLimitPerSec}/s`);

    // --- naive baseline (sampled): mjml2html per email, a new SMTP connection per email, one at a time ---
    const naive = nodemailer.createTransport({ host: '127.0.0.1', port: sink.port, secure: false, ignoreTLS: true });
    const tn0 = Date.now();
    for (let i = 0; i < NAIVE_SAMPLE; i++) {
      const to = `reader-${i}@bench.example.org`;
      const { html } = await mjml2html(naiveMjml(to, Array.from({ length: 10 }, () => paper)), { validationLevel: 'soft' });
      await naive.sendMail({ from: 'digest@paperboy.localhost', to, subject: '10 new papers', html, text: 'text' });
    }
    const naiveSec = (Date.now() - tn0) / 1000;
    result.naivePerSec = Math.round(NAIVE_SAMPLE / naiveSec);
    log(`naive (sampled ${NAIVE_SAMPLE} emails, sequential): ${naiveSec.toFixed(1)} s = ${result.naivePerSec}/s`);
  } finally {
    await app.close();
    sink.stop();
    await deleteKeys(prefix, redisUrl);
    await dropDatabase(dbName);
    clearInterval(rssTimer);
  }
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
  log(`settings: SEND_CONCURRENCY=${CONCURRENCY} SMTP_POOL_SIZE=${POOL}; ratio to raw limit ${(Number(result.emailsPerSec) / Number(result.rawLimitPerSec)).toFixed(2)}`);
  process.stdout.write(
    `${JSON.stringify({ emails: result.emails, emailsPerSec: result.emailsPerSec, rawLimitPerSec: result.rawLimitPerSec, naivePerSec: result.naivePerSec, rssMb: Math.round(peakRss / 1048576), sendOnlyPerSec: result.sendOnlyPerSec, avgEmailKb: result.avgEmailKb, concurrency: CONCURRENCY, smtpPool: POOL, naiveSampled: NAIVE_SAMPLE })}\n`,
  );
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
