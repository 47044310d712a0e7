/**
 * Fan-out: N subscribers with undelivered matches → ComposerService.sendNow(): every delivery
 * written (in transactions of COMPOSE_CHUNK_SIZE subscribers, COMPOSE_CONCURRENCY at a time, each
 * queued right after its commit)
 * and its send jobs queued (whatever JobProducer.sendDeliveries does: one job per delivery, or
 * batched `send-batch` jobs). Seeding is set-based SQL (generate_series, bulk-loaded) and is not
 * measured. Redis memory is measured on a private redis-server child (INFO memory, before/after),
 * so nothing else counts. No worker runs: the jobs stay queued.
 *
 * The seed ends with VACUUM ANALYZE, the state autovacuum keeps a server's tables in (it is off
 * on the development machine's server): index-only scans need no heap visits. `--no-vacuum`
 * measures matches fresh from the matching job instead (ANALYZE only).
 *
 * Run: npm run --silent bench:fanout -- [--json] [--subscribers 1000000] [--matches 2] [--chunk 50000] [--concurrency 2] [--no-vacuum]
 * The last line printed is one JSON object with the figures.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import IORedis from 'ioredis';
import { createContext } from '../src/bootstrap';
import { AppConfig } from '../src/config/app-config';
import { JobProducer } from '../src/infra/queue/job-producer.service';
import { ComposerService } from '../src/mailer/composer.service';
import { DEFAULT_COMPOSE_CHUNK, DEFAULT_COMPOSE_CONCURRENCY, DeliveryRepository } from '../src/mailer/delivery.repository';
import { argNum, dropDatabase, freshDatabase, seed, sleep, sql } from './bench-support';

const SUBSCRIBERS = argNum('subscribers', 1_000_000);
const MATCHES = argNum('matches', 2);
const CHUNK = argNum('chunk', DEFAULT_COMPOSE_CHUNK);
const CONCURRENCY = argNum('concurrency', DEFAULT_COMPOSE_CONCURRENCY);
const jsonOnly = process.argv.includes('--json');
const VACUUM = !process.argv.includes('--no-vacuum');
const log = (s: string) => (jsonOnly ? process.stderr : process.stdout).write(`${s}\n`);

const freePort = () =>
  new Promise<number>((res) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => res(p));
    });
  });

async function usedMemory(redis: IORedis): Promise<number> {
  const info = await redis.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)![1]);
}

async function main(): Promise<void> {
  const dbName = 'paperboy_bench_fanout';
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'pb-bench-redis-'));
  const redisProc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--maxmemory-policy', 'noeviction', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  const redisUrl = `redis://127.0.0.1:${port}`;
  const redis = new IORedis(redisUrl, { maxRetriesPerRequest: null, lazyConnect: true });
  redis.on('error', () => undefined); // refused until redis-server listens
  for (let i = 0; ; i++) {
    try {
      if ((await redis.ping()) === 'PONG') break;
    } catch {
      if (i > 100) throw new Error('private redis-server did not start');
    }
    await sleep(50);
  }
  try {
    log(`machine: ${require('node:os').cpus().length} cores, node ${process.version}`);
    log(`creating database ${dbName}, seeding ${SUBSCRIBERS} subscribers × ${MATCHES} matches (set-based)…`);
    const dbUrl = await freshDatabase(dbName);
    const ts = Date.now();
    await seed(dbUrl, { subscribers: SUBSCRIBERS, perSubscriber: MATCHES, papers: 500, vacuum: VACUUM });
    log(`seeded in ${((Date.now() - ts) / 1000).toFixed(1)} s (not measured)`);
    const config = AppConfig.fromProcessEnv({
      NODE_ENV: 'test',
      DATABASE_URL: dbUrl,
      REDIS_URL: redisUrl,
      QUEUE_PREFIX: 'pbbench-fanout',
      PUBLIC_URL: 'https://papers.example.org',
      APP_SECRET: 'bench-secret-'.padEnd(40, 'x'),
      LOG_LEVEL: 'error',
      COMPOSE_CHUNK_SIZE: String(CHUNK),
      COMPOSE_CONCURRENCY: String(CONCURRENCY),
    });
    const app = await createContext(config, { workers: false, quiet: true });
    try {
      // Timing wrappers (the work is unchanged): the enqueue part of sendNow, the chunk plan
      // (one query) and each chunk's transaction.
      const producer = app.get(JobProducer);
      const enqueue = producer.sendDeliveries.bind(producer);
      let enqueueMs = 0;
      producer.sendDeliveries = async (rows) => {
        const t = Date.now();
        await enqueue(rows);
        enqueueMs += Date.now() - t;
      };
      const repo = app.get(DeliveryRepository);
      const bounds = repo.composeBounds.bind(repo);
      const range = repo.composeRange.bind(repo);
      let boundsMs = 0;
      const chunkMs: number[] = [];
      repo.composeBounds = async (...args) => {
        const t = Date.now();
        const r = await bounds(...args);
        boundsMs += Date.now() - t;
        return r;
      };
      repo.composeRange = async (...args) => {
        const t = Date.now();
        const r = await range(...args);
        chunkMs.push(Date.now() - t);
        return r;
      };
      const before = await usedMemory(redis);
      const t0 = Date.now();
      const n = await app.get(ComposerService).sendNow();
      const seconds = (Date.now() - t0) / 1000;
      const after = await usedMemory(redis);
      const [{ deliveries }] = await sql<{ deliveries: string }>(dbUrl, `SELECT count(*) AS deliveries FROM delivery`);
      const waiting = await redis.llen('pbbench-fanout:send:wait');
      const sampleKey = (await redis.keys('pbbench-fanout:send:send-batch-1-*'))[0] ?? (await redis.keys('pbbench-fanout:send:send-1-*'))[0];
      const perJob = sampleKey ? await redis.memory('USAGE', sampleKey) : 0;
      const redisMb = (after - before) / 1048576;
      const sec = (ms: number) => Number((ms / 1000).toFixed(1));
      const composeMs = seconds * 1000 - enqueueMs;
      log(
        `sendNow: ${n} deliveries written and queued in ${seconds.toFixed(1)} s (compose ${(composeMs / 1000).toFixed(1)} s: chunk plan ${(boundsMs / 1000).toFixed(1)} s + ` +
          `${chunkMs.length} chunk transactions of ≤ ${CHUNK} subscribers, ${CONCURRENCY} at a time, ${(chunkMs.reduce((a, b) => a + b, 0) / 1000).toFixed(1)} s, slowest ${(Math.max(0, ...chunkMs) / 1000).toFixed(1)} s; ` +
          `enqueue ${(enqueueMs / 1000).toFixed(1)} s; ${Number(deliveries)} delivery rows, ${waiting} jobs waiting)`,
      );
      log(`redis: +${redisMb.toFixed(0)} MB (used_memory delta), ${((after - before) / Math.max(1, n)).toFixed(0)} B per delivery, ${((after - before) / Math.max(1, waiting)).toFixed(0)} B per job; one job hash ${perJob} B (MEMORY USAGE)`);
      process.stdout.write(
        `${JSON.stringify({
          subscribers: SUBSCRIBERS,
          seconds: Number(seconds.toFixed(1)),
          redisMb: Math.round(redisMb),
          deliveries: Number(deliveries),
          jobsWaiting: waiting,
          bytesPerJob: Math.round((after - before) / Math.max(1, waiting)),
          bytesPerDelivery: Math.round((after - before) / Math.max(1, n)),
          composeSeconds: sec(composeMs),
          enqueueSeconds: sec(enqueueMs),
          chunkSize: CHUNK,
          concurrency: CONCURRENCY,
          chunks: chunkMs.length,
          planSeconds: sec(boundsMs),
          slowestChunkSeconds: sec(Math.max(0, ...chunkMs)),
          vacuumed: VACUUM,
        })}\n`,
      );
    } finally {
      await app.close();
    }
  } finally {
    redis.disconnect();
    redisProc.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    await dropDatabase(dbName);
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
