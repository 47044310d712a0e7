/**
 * Delivery throughput: N personalised digests (10 papers each) through the real pipeline —
 * queue (BullMQ `send-batch` jobs on Redis) → conditional claim of a group → render (precompiled
 * MJML) → pooled SMTP to a discard sink in a separate process on loopback → recorded in
 * PostgreSQL (batched writes). In the same run: the raw limit (one pre-built MIME of the same
 * size sent N times through the same transport pool settings, concurrency and process layout)
 * and a naive baseline (mjml2html per email + a new SMTP connection per email, sampled).
 *
 * Run: npm run --silent bench:send -- [--json] [--emails 20000] [--workers 2] [--concurrency 64]
 *      [--pool 8] [--batch 100] [--raw N] [--naive-sample 200] [--cpu-prof DIR]
 * `--workers N` runs the send pipeline in N worker processes (`node dist/src/worker.js`, as in
 * production); `--workers 0` runs it inside the bench process. The bench process composes and
 * enqueues (ComposerService.sendNow) either way.
 * Uses its own database (paperboy_bench_send) and queue prefix, dropped/deleted at the end.
 * The last line printed is one JSON object with the figures.
 */
import { ChildProcess, fork, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { ConnectionOptions, Queue } from 'bullmq';
import mjml2html from 'mjml';
import nodemailer from 'nodemailer';
import { Client } from 'pg';
import { deleteKeys } from '../test/helpers/test-app';
import { createContext } from '../src/bootstrap';
import { AppConfig } from '../src/config/app-config';
import { MailTransport } from '../src/infra/mail/mail-transport.service';
import { buildMime } from '../src/infra/mail/mime-builder';
import { QUEUES } from '../src/infra/queue/queues';
import { redisOptionsFromUrl } from '../src/infra/queue/redis-options';
import { ComposerService } from '../src/mailer/composer.service';
import { DeliveryRepository } from '../src/mailer/delivery.repository';
import { SenderService } from '../src/mailer/sender.service';
import { argNum, dropDatabase, freshDatabase, seed, sleep, sql, startSink } from './bench-support';

const EMAILS = argNum('emails', 20_000);
const PAPERS_PER_EMAIL = 10;
const WORKERS = argNum('workers', 2);
const CONCURRENCY = argNum('concurrency', 64);
const POOL = argNum('pool', 8);
const BATCH = argNum('batch', 100);
const RAW = argNum('raw', EMAILS);
const NAIVE_SAMPLE = argNum('naive-sample', 200);
const PROF_DIR = process.argv.includes('--cpu-prof') ? resolve(process.argv[process.argv.indexOf('--cpu-prof') + 1] ?? 'var/prof') : undefined;
const jsonOnly = process.argv.includes('--json');
const log = (s: string) => (jsonOnly ? process.stderr : process.stdout).write(`${s}\n`);
const ROOT = resolve(__dirname, '..', '..');

/** Peak resident memory of this process plus its worker children (sampled every 100 ms). */
const children = new Set<ChildProcess>();
let peakRss = 0;
function rssOf(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}
const rssTimer = setInterval(() => {
  let total = process.memoryUsage().rss;
  for (const c of children) if (c.pid) total += rssOf(c.pid);
  peakRss = Math.max(peakRss, total);
}, 100);

/** A process's name and the fields of /proc/PID/stat after it (field 14, utime, at index 11). */
function procStat(pid: number | string): { name: string; fields: string[] } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return { name: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')), fields: stat.slice(stat.lastIndexOf(') ') + 2).split(' ') };
  } catch {
    return undefined; // gone meanwhile
  }
}

/** CPU seconds (user + system) used so far by a process, from /proc. */
function cpuSeconds(pid: number): number {
  const f = procStat(pid)?.fields;
  return f ? (Number(f[11]) + Number(f[12])) / 100 : 0;
}

/**
 * CPU seconds used so far by every process of that name (PostgreSQL: the postmaster, whose
 * reaped-children counters hold the backends that have exited, and the live backends).
 */
function cpuSecondsOf(name: string): number {
  let ticks = 0;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    const stat = procStat(pid);
    if (stat?.name !== name) continue;
    const f = stat.fields;
    ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
  }
  return ticks / 100;
}

async function pool<T>(items: T[], n: number, fn: (t: T) => Promise<unknown>): Promise<void> {
  let i = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (i < items.length) await fn(items[i++]);
    }),
  );
}

// --- realistic content: arXiv-length abstracts (~1,100–1,700 characters), varied titles and author lists ---
const SENTENCES = [
  'We study how message passing over learned graph structure interacts with diffusion-based generative models.',
  'A simple denoising objective on node features recovers long-range dependencies that standard neighbourhood aggregation misses.',
  'Our analysis connects the spectral gap of the input graph to the number of denoising steps required, yielding a principled noise schedule.',
  'Experiments on molecular property prediction, traffic forecasting and citation networks show consistent gains over strong baselines at a fraction of the compute.',
  'We further show that the learned graph can be sparsified by an order of magnitude without loss of accuracy, which makes the method practical on graphs with millions of nodes.',
  'Theoretical results establish that the proposed estimator is consistent under mild assumptions on the degree distribution.',
  'In contrast to prior work, our approach does not require access to the ground-truth adjacency matrix during training.',
  'Ablations isolate the contribution of each component and reveal that positional encodings matter far less than previously reported.',
  'Code, trained checkpoints and the evaluation harness are released to facilitate reproduction.',
  'Finally, we discuss limitations, including the quadratic memory cost of the attention variant and its sensitivity to the choice of temperature.',
];
const NAMES = ['Ada Lovelace', 'Alan Turing', 'Grace Hopper', 'Emmy Noether', 'Katherine Johnson', 'John von Neumann', 'Barbara Liskov', 'Claude Shannon', 'Sofia Kovalevskaya', 'Edsger Dijkstra', 'Frances Allen', 'Donald Knuth'];
const TITLE_WORDS = ['Spectral', 'Denoising', 'for', 'Message', 'Passing', 'on', 'Learned', 'Graphs', 'with', 'Diffusion', 'Priors', 'Scalable', 'Sparse', 'Attention', 'Benchmarks'];

async function makeContentRealistic(dbUrl: string): Promise<void> {
  const [{ min, max }] = await sql<{ min: number; max: number }>(dbUrl, 'SELECT min(id) AS min, max(id) AS max FROM paper');
  const ids: number[] = [];
  const titles: string[] = [];
  const abstracts: string[] = [];
  const authors: string[] = [];
  const codeUrls: (string | null)[] = [];
  const upvotes: (number | null)[] = [];
  for (let id = min; id <= max; id++) {
    const k = id - min;
    let abstract = '';
    for (let j = 0; abstract.length < 1100 + ((k * 37) % 600); j++) abstract += `${SENTENCES[(k + j * 3) % SENTENCES.length]} `;
    ids.push(id);
    titles.push(`${Array.from({ length: 7 + (k % 9) }, (_, j) => TITLE_WORDS[(k + j * 5) % TITLE_WORDS.length]).join(' ')} (${k})`);
    abstracts.push(abstract.trim());
    authors.push(JSON.stringify(Array.from({ length: 3 + (k % 10) }, (_, j) => NAMES[(k + j) % NAMES.length])));
    codeUrls.push(k % 3 === 0 ? `https://github.com/example/paper-${k}` : null);
    upvotes.push(k % 2 === 0 ? 5 + (k % 90) : null);
  }
  await sql(
    dbUrl,
    `UPDATE paper p SET title = u.title, abstract = u.abstract, authors = ARRAY(SELECT json_array_elements_text(u.authors::json)), code_url = u.code_url, upvotes = u.upvotes
     FROM unnest($1::int[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int[]) AS u(id, title, abstract, authors, code_url, upvotes)
     WHERE p.id = u.id`,
    [ids, titles, abstracts, authors, codeUrls, upvotes],
  );
}

function naiveMjml(to: string, papers: { title: string; abstract: string; url: string; authors: string }[]): string {
  const cards = papers
    .map(
      (p) =>
        `<mj-section><mj-column><mj-text font-size="18px"><a href="${p.url}">${p.title}</a></mj-text><mj-text>${p.authors}</mj-text><mj-text>${p.abstract}</mj-text></mj-column></mj-section>`,
    )
    .join('');
  return `<mjml><mj-head><mj-title>${papers.length} new papers</mj-title></mj-head><mj-body><mj-section><mj-column><mj-text>Hello ${to}</mj-text></mj-column></mj-section>${cards}</mj-body></mjml>`;
}

function benchEnv(dbUrl: string, redisUrl: string, prefix: string, smtpPort: number): Record<string, string> {
  return {
    NODE_ENV: 'test',
    DATABASE_URL: dbUrl,
    REDIS_URL: redisUrl,
    QUEUE_PREFIX: prefix,
    SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
    PUBLIC_URL: 'https://papers.example.org',
    APP_SECRET: 'bench-secret-'.padEnd(40, 'x'),
    LOG_LEVEL: 'error',
    SEND_RATE_PER_SEC: '100000',
    SEND_CONCURRENCY: String(CONCURRENCY),
    SMTP_POOL_SIZE: String(POOL),
    SEND_BATCH_SIZE: String(BATCH),
    // The bench's own reconciler must not interfere (every row is fresh).
    RECONCILE_AFTER_MS: '3600000',
  };
}

function spawnWorker(env: Record<string, string>, i: number): ChildProcess {
  const args = PROF_DIR ? [`--cpu-prof`, `--cpu-prof-dir=${PROF_DIR}`, `--cpu-prof-name=worker-${i}.cpuprofile`] : [];
  const child = spawn(process.execPath, [...args, join(ROOT, 'dist', 'src', 'worker.js')], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/**
 * The raw limit in a child process (`--raw-child`): the same MailTransport (pool size, options)
 * sending the pre-built MIME `count` times at `concurrency`; prints the elapsed seconds.
 */
async function rawChild(): Promise<void> {
  const count = argNum('count', 0);
  const config = AppConfig.fromProcessEnv();
  const transport = new MailTransport(config);
  const raw = readFileSync(process.argv[process.argv.indexOf('--mime') + 1]);
  const envelope = { from: 'digest@paperboy.localhost', to: ['reader@bench.example.org'] };
  await transport.send({ envelope, raw }); // connect before timing, as the pipeline's pool is warm
  process.send?.('ready');
  await new Promise((r) => process.once('message', r));
  const t = Date.now();
  const cpu0 = process.cpuUsage();
  await pool(Array.from({ length: count }, (_, i) => i), CONCURRENCY, () => transport.send({ envelope, raw }));
  const cpu = process.cpuUsage(cpu0);
  process.send?.({ seconds: (Date.now() - t) / 1000, cpu: (cpu.user + cpu.system) / 1e6 });
  await new Promise(() => undefined); // killed by the parent
}

async function measureRaw(env: Record<string, string>, mime: Buffer, app: { get: (t: typeof MailTransport) => MailTransport }): Promise<{ perSec: number; cpu: number }> {
  const procs = Math.max(1, WORKERS);
  if (WORKERS === 0) {
    const transport = app.get(MailTransport);
    const envelope = { from: 'digest@paperboy.localhost', to: ['reader@bench.example.org'] };
    const cpu0 = process.cpuUsage();
    const t = Date.now();
    await pool(Array.from({ length: RAW }, (_, i) => i), CONCURRENCY, () => transport.send({ envelope, raw: mime }));
    const c = process.cpuUsage(cpu0);
    return { perSec: Math.round(RAW / ((Date.now() - t) / 1000)), cpu: (c.user + c.system) / 1e6 };
  }
  const file = join(ROOT, 'var', `bench-raw-${process.pid}.eml`);
  require('node:fs').mkdirSync(join(ROOT, 'var'), { recursive: true });
  require('node:fs').writeFileSync(file, mime);
  const kids = Array.from({ length: procs }, () => {
    const c = fork(__filename, ['--raw-child', '--count', String(Math.ceil(RAW / procs)), '--mime', file, '--concurrency', String(CONCURRENCY)], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    children.add(c);
    return c;
  });
  await Promise.all(kids.map((c) => new Promise((r) => c.once('message', r))));
  const t = Date.now();
  kids.forEach((c) => c.send('go'));
  const done = await Promise.all(kids.map((c) => new Promise<{ cpu: number }>((r) => c.once('message', (m) => r(m as { cpu: number })))));
  const seconds = (Date.now() - t) / 1000;
  const cpu = done.reduce((a, d) => a + d.cpu, 0);
  kids.forEach((c) => c.kill('SIGKILL'));
  require('node:fs').rmSync(file, { force: true });
  return { perSec: Math.round((Math.ceil(RAW / procs) * procs) / seconds), cpu };
}

async function main(): Promise<void> {
  const dbName = 'paperboy_bench_send';
  const prefix = `pbbench-send-${randomBytes(3).toString('hex')}`;
  const redisUrl = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
  log(`machine: ${cpus().length} cores, node ${process.version}, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  log(`creating database ${dbName} and seeding ${EMAILS} subscribers × ${PAPERS_PER_EMAIL} matches (set-based)…`);
  const dbUrl = await freshDatabase(dbName);
  let t = Date.now();
  await seed(dbUrl, { subscribers: EMAILS, perSubscriber: PAPERS_PER_EMAIL, papers: 2000 });
  await makeContentRealistic(dbUrl);
  await sql(dbUrl, 'VACUUM ANALYZE');
  log(`seeded in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  const sink = await startSink();
  const env = benchEnv(dbUrl, redisUrl, prefix, sink.port);
  const config = AppConfig.fromProcessEnv(env);
  const app = await createContext(config, { workers: WORKERS === 0, quiet: true });
  const queue = new Queue(QUEUES.send, { connection: redisOptionsFromUrl(redisUrl) as ConnectionOptions, prefix });
  const result: Record<string, number | string> = {};
  try {
    // --- the pipeline ---
    const workers = Array.from({ length: WORKERS }, (_, i) => spawnWorker(env, i));
    if (WORKERS) {
      const deadline = Date.now() + 60_000;
      while ((await queue.getWorkersCount()) < WORKERS) {
        if (Date.now() > deadline) throw new Error('worker processes did not start');
        await sleep(100);
      }
    }
    log(
      `pipeline: ${WORKERS ? `${WORKERS} worker processes` : 'in the bench process'}, SEND_CONCURRENCY=${CONCURRENCY}, SMTP_POOL_SIZE=${POOL}, SEND_BATCH_SIZE=${BATCH}, SEND_RATE_PER_SEC=100000`,
    );
    // One connection polls the progress, every 100 ms (a new connection per poll would cost
    // PostgreSQL a backend fork each time, on the cores the pipeline uses).
    const poller = new Client({ connectionString: dbUrl });
    await poller.connect();
    const cpuStart = {
      self: process.cpuUsage(),
      workers: workers.map((w) => cpuSeconds(w.pid!)),
      sink: cpuSeconds(sink.pid),
      postgres: cpuSecondsOf('postgres'),
      redis: cpuSecondsOf('redis-server'),
    };
    const t0 = Date.now();
    const queued = await app.get(ComposerService).sendNow();
    const tQueued = Date.now();
    log(`composed + queued ${queued} deliveries in ${((tQueued - t0) / 1000).toFixed(1)} s`);
    let last = 0;
    for (;;) {
      const [{ sent, failed }] = (
        await poller.query<{ sent: string; failed: string }>(
          `SELECT count(*) FILTER (WHERE status = 'sent') AS sent, count(*) FILTER (WHERE status IN ('failed', 'unknown', 'skipped')) AS failed FROM delivery`,
        )
      ).rows;
      if (Number(failed) > 0) throw new Error(`${failed} deliveries failed`);
      if (Number(sent) >= queued) break;
      if (Date.now() - last > 5000) {
        log(`  ${sent} sent, ${(Number(sent) / ((Date.now() - t0) / 1000)).toFixed(0)}/s`);
        last = Date.now();
      }
      await sleep(100);
    }
    const t1 = Date.now();
    const postgresCpu = cpuSecondsOf('postgres') - cpuStart.postgres;
    const redisCpu = cpuSecondsOf('redis-server') - cpuStart.redis;
    await poller.end();
    const selfCpu = process.cpuUsage(cpuStart.self);
    const workerCpu = workers.reduce((a, w, i) => a + cpuSeconds(w.pid!) - cpuStart.workers[i], 0);
    const sinkCpu = cpuSeconds(sink.pid) - cpuStart.sink;
    const sinkStats = await sink.stats();
    if (sinkStats.messages !== queued) throw new Error(`the sink received ${sinkStats.messages} messages for ${queued} deliveries`);
    const pipelineSec = (t1 - t0) / 1000;
    result.emails = queued;
    result.emailsPerSec = Math.round(queued / pipelineSec);
    result.sendOnlyPerSec = Math.round(queued / ((t1 - tQueued) / 1000));
    result.avgEmailKb = Math.round(sinkStats.bytes / sinkStats.messages / 1024);
    const senderCpuMs = ((WORKERS ? workerCpu : (selfCpu.user + selfCpu.system) / 1e6) * 1000) / queued;
    result.senderCpuMsPerEmail = Number(senderCpuMs.toFixed(2));
    result.sinkCpuMsPerEmail = Number(((sinkCpu * 1000) / queued).toFixed(2));
    // The whole server's, so anything else using PostgreSQL or Redis meanwhile counts too.
    result.postgresCpuMsPerEmail = Number(((postgresCpu * 1000) / queued).toFixed(2));
    result.redisCpuMsPerEmail = Number(((redisCpu * 1000) / queued).toFixed(2));
    log(
      `pipeline: ${queued} emails in ${pipelineSec.toFixed(1)} s = ${result.emailsPerSec}/s (from the first enqueue; ${result.sendOnlyPerSec}/s after queueing), avg ${result.avgEmailKb} KB on the wire; ` +
        `CPU per email: ${senderCpuMs.toFixed(2)} ms in the sender${WORKERS ? 's' : ' (incl. composing)'}, ${result.sinkCpuMsPerEmail} ms in the sink, ` +
        `${result.postgresCpuMsPerEmail} ms in PostgreSQL (incl. composing), ${result.redisCpuMsPerEmail} ms in Redis`,
    );
    for (const w of workers) w.kill('SIGTERM');
    await Promise.all(workers.map((w) => new Promise((r) => (w.exitCode !== null ? r(null) : w.once('exit', r)))));

    // --- the raw limit: one pre-built MIME of a real delivery, through the same transport settings ---
    const [{ id }] = await sql<{ id: number }>(dbUrl, `SELECT min(id) AS id FROM delivery`);
    const content = (await app.get(DeliveryRepository).content(id))!;
    const message = app.get(SenderService).compose(content);
    // Exactly what the pipeline hands to the transport for this delivery (the same MIME builder).
    const mime = buildMime(message);
    const sinkCpu0 = cpuSeconds(sink.pid);
    const raw = await measureRaw(env, mime, app);
    result.rawLimitPerSec = raw.perSec;
    result.rawEmailKb = Math.round(mime.length / 1024);
    result.rawSenderCpuMsPerEmail = Number(((raw.cpu * 1000) / RAW).toFixed(2));
    result.rawSinkCpuMsPerEmail = Number((((cpuSeconds(sink.pid) - sinkCpu0) * 1000) / RAW).toFixed(2));
    log(
      `raw limit: ${RAW} × ${result.rawEmailKb} KB pre-built MIME, ${Math.max(1, WORKERS)} process(es) × pool ${POOL} × concurrency ${CONCURRENCY} = ${result.rawLimitPerSec}/s; ` +
        `CPU per email ${result.rawSenderCpuMsPerEmail} ms sender, ${result.rawSinkCpuMsPerEmail} ms sink`,
    );

    // --- naive baseline (sampled): mjml2html per email, a new SMTP connection per email, one at a time ---
    const naive = nodemailer.createTransport({ host: '127.0.0.1', port: sink.port, secure: false, ignoreTLS: true });
    const papers = content.papers.map((p) => ({ title: p.title, abstract: p.abstract, url: p.url ?? '', authors: p.authors.join(', ') }));
    const tn0 = Date.now();
    for (let i = 0; i < NAIVE_SAMPLE; i++) {
      const to = `reader-${i}@bench.example.org`;
      const { html } = await mjml2html(naiveMjml(to, papers), { validationLevel: 'soft' });
      await naive.sendMail({ from: 'digest@paperboy.localhost', to, subject: '10 new papers', html, text: 'text' });
    }
    const naiveSec = (Date.now() - tn0) / 1000;
    result.naivePerSec = Math.round(NAIVE_SAMPLE / naiveSec);
    log(`naive (sampled ${NAIVE_SAMPLE} emails, sequential): ${naiveSec.toFixed(1)} s = ${result.naivePerSec}/s`);
  } finally {
    for (const c of children) c.kill('SIGKILL');
    await queue.close();
    await app.close();
    sink.stop();
    await deleteKeys(prefix, redisUrl);
    await dropDatabase(dbName);
    clearInterval(rssTimer);
  }
  log(
    `settings: ${WORKERS ? `${WORKERS} worker processes` : '1 process'}, SEND_CONCURRENCY=${CONCURRENCY} SMTP_POOL_SIZE=${POOL} SEND_BATCH_SIZE=${BATCH}; ` +
      `ratio to raw limit ${(Number(result.emailsPerSec) / Number(result.rawLimitPerSec)).toFixed(2)}; load average now ${loadavg().map((l) => l.toFixed(1)).join(' ')}`,
  );
  process.stdout.write(
    `${JSON.stringify({
      emails: result.emails,
      emailsPerSec: result.emailsPerSec,
      rawLimitPerSec: result.rawLimitPerSec,
      naivePerSec: result.naivePerSec,
      rssMb: Math.round(peakRss / 1048576),
      sendOnlyPerSec: result.sendOnlyPerSec,
      ratioToRaw: Number((Number(result.emailsPerSec) / Number(result.rawLimitPerSec)).toFixed(2)),
      avgEmailKb: result.avgEmailKb,
      senderCpuMsPerEmail: result.senderCpuMsPerEmail,
      sinkCpuMsPerEmail: result.sinkCpuMsPerEmail,
      rawSenderCpuMsPerEmail: result.rawSenderCpuMsPerEmail,
      rawSinkCpuMsPerEmail: result.rawSinkCpuMsPerEmail,
      postgresCpuMsPerEmail: result.postgresCpuMsPerEmail,
      redisCpuMsPerEmail: result.redisCpuMsPerEmail,
      workers: WORKERS,
      concurrency: CONCURRENCY,
      smtpPool: POOL,
      batch: BATCH,
      naiveSampled: NAIVE_SAMPLE,
    })}\n`,
  );
}

if (process.argv.includes('--raw-child')) {
  rawChild().then(
    () => process.exit(0),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
} else {
  main().then(
    () => process.exit(0),
    (e) => {
      console.error(e);
      for (const c of children) c.kill('SIGKILL');
      process.exit(1);
    },
  );
}
