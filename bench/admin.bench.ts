/**
 * Admin console at scale: listing and searching 1,000,000 subscribers (2 alerts each, from 5,000
 * distinct topics) through the console's own service, against a real PostgreSQL.
 * Run: npm run bench:admin  [-- --subscribers N] [--reseed] [--json]
 * Uses the database BENCH_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/paperboy_bench_admin),
 * migrating and seeding it once (kept for later runs unless --reseed). Exits 1 if any p95 is over 200 ms.
 */
import { Client } from 'pg';
import { AdminSubscribersRepository } from '../src/admin/subscribers/admin-subscribers.repository';
import { AdminSubscribersService, ListQuery } from '../src/admin/subscribers/admin-subscribers.service';
import { AppConfig } from '../src/config/app-config';
import { parseEnv } from '../src/config/config.schema';
import { migrateDatabase } from '../src/infra/prisma/migrate';
import { PrismaService } from '../src/infra/prisma/prisma.service';
import type { SubscribersService } from '../src/subscribers/subscribers.service';

const arg = (name: string, fallback: number) => (process.argv.includes(`--${name}`) ? Number(process.argv[process.argv.indexOf(`--${name}`) + 1]) : fallback);
const SUBSCRIBERS = arg('subscribers', 1_000_000);
const BUDGET_MS = 200;
const RUNS = 15;
const url = process.env.BENCH_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/paperboy_bench_admin';
const jsonOnly = process.argv.includes('--json');
const log = (s: string) => !jsonOnly && process.stdout.write(s + '\n');

const FIRST = ['ada', 'grace', 'alan', 'emmy', 'marie', 'kurt', 'john', 'lise', 'niels', 'rosalind', 'barbara', 'claude', 'edsger', 'donald', 'tim', 'radia', 'shafi', 'leslie', 'yann', 'fei', 'geoffrey', 'yoshua', 'daphne', 'andrew', 'judea', 'michael', 'silvio', 'whitfield', 'ivan', 'frances'];
const LAST = ['lovelace', 'hopper', 'turing', 'noether', 'curie', 'godel', 'neumann', 'meitner', 'bohr', 'franklin', 'liskov', 'shannon', 'dijkstra', 'knuth', 'lee', 'perlman', 'goldwasser', 'lamport', 'lecun', 'li', 'hinton', 'bengio', 'koller', 'ng', 'pearl', 'jordan', 'micali', 'diffie', 'sutherland', 'allen'];
const DOMAINS = ['gmail.com', 'outlook.com', 'mit.edu', 'stanford.edu', 'ox.ac.uk', 'cam.ac.uk', 'ethz.ch', 'mpg.de', 'inria.fr', 'u-tokyo.ac.jp', 'tsinghua.edu.cn', 'uni-heidelberg.de', 'epfl.ch', 'berkeley.edu', 'cmu.edu', 'proton.me', 'yahoo.com', 'example.org', 'toronto.edu', 'kth.se'];
const WORDS = ['diffusion', 'transformer', 'graph', 'neural', 'protein', 'folding', 'reinforcement', 'learning', 'retrieval', 'language', 'model', 'vision', 'robotics', 'causal', 'inference', 'bayesian', 'optimization', 'quantum', 'sparse', 'attention', 'contrastive', 'federated', 'privacy', 'speech', 'segmentation', 'detection', 'generative', 'adversarial', 'kernel', 'embedding'];

const sqlArray = (xs: string[]) => `ARRAY[${xs.map((x) => `'${x}'`).join(',')}]`;

async function seed(c: Client): Promise<void> {
  log(`seeding ${SUBSCRIBERS.toLocaleString('en')} subscribers …`);
  const t0 = Date.now();
  await c.query('TRUNCATE subscriber, topic CASCADE');
  // Bulk load without the search indexes, then build them once (what a restore does too).
  await c.query('DROP INDEX IF EXISTS subscriber_email_trgm_idx');
  await c.query(`SET maintenance_work_mem = '512MB'`);
  await c.query(`
    INSERT INTO topic (query)
    SELECT w1 || ' ' || w2 || CASE WHEN g > 900 THEN ' ' || g ELSE '' END
    FROM generate_series(1, 5000) g,
         LATERAL (SELECT (${sqlArray(WORDS)})[1 + g % 30] AS w1, (${sqlArray(WORDS)})[1 + (g / 30) % 30] AS w2) w
    ON CONFLICT DO NOTHING`);
  await c.query(`
    INSERT INTO subscriber (id, email, status, frequency, created_at, updated_at, confirmed_at, consent_source)
    SELECT gen_random_uuid(),
           (${sqlArray(FIRST)})[1 + g % 30] || '.' || (${sqlArray(LAST)})[1 + (g / 30) % 30] || g || '@' || (${sqlArray(DOMAINS)})[1 + (g * 7) % 20],
           (CASE WHEN g % 100 < 88 THEN 'active' WHEN g % 100 < 93 THEN 'unsubscribed' WHEN g % 100 < 97 THEN 'pending' WHEN g % 100 < 99 THEN 'bounced' ELSE 'suspended' END)::subscriber_status,
           (CASE WHEN g % 10 < 5 THEN 'instant' WHEN g % 10 < 8 THEN 'daily' ELSE 'weekly' END)::frequency,
           now() - (g::float / ${SUBSCRIBERS} * interval '730 days'), now(), now(), 'bench'
    FROM generate_series(1, ${SUBSCRIBERS}) g`);
  await c.query(`
    INSERT INTO subscriber_topic (subscriber_id, topic_id, label)
    SELECT s.id, t.id, t.query
    FROM (SELECT id, row_number() OVER () AS n FROM subscriber) s
    CROSS JOIN LATERAL (VALUES (1 + (s.n * 7919) % 5000), (1 + (s.n * 104729) % 5000)) AS pick(k)
    JOIN topic t ON t.id = (SELECT min(id) FROM topic) + pick.k - 1
    ON CONFLICT DO NOTHING`);
  await c.query('CREATE INDEX subscriber_email_trgm_idx ON subscriber USING GIN (email gin_trgm_ops)');
  await c.query('VACUUM ANALYZE subscriber');
  await c.query('VACUUM ANALYZE subscriber_topic');
  await c.query('VACUUM ANALYZE topic');
  log(`seeded in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

async function main(): Promise<void> {
  await migrateDatabase(url);
  const c = new Client({ connectionString: url });
  await c.connect();
  const n = Number((await c.query('SELECT count(*) AS n FROM subscriber')).rows[0].n);
  if (process.argv.includes('--reseed') || n !== SUBSCRIBERS) await seed(c);
  else log(`using the ${n.toLocaleString('en')} subscribers already in ${new URL(url).pathname.slice(1)}`);

  const prisma = new PrismaService(new AppConfig(parseEnv({ DATABASE_URL: url })));
  // list() never touches the subscribers service (only erasure does).
  const service = new AdminSubscribersService(new AdminSubscribersRepository(prisma), undefined as unknown as SubscribersService);

  // A cursor deep in the list (about row 600,000 of the newest-first order), as "next page" would give.
  const deep = (await c.query(`SELECT id, created_at FROM subscriber ORDER BY created_at DESC, id DESC OFFSET ${Math.floor(SUBSCRIBERS * 0.6)} LIMIT 1`)).rows[0];
  const deepCursor = Buffer.from(JSON.stringify([deep.created_at.toISOString(), deep.id])).toString('base64url');
  const deepEmail = (await c.query(`SELECT email, id FROM subscriber ORDER BY email OFFSET ${Math.floor(SUBSCRIBERS * 0.6)} LIMIT 1`)).rows[0];
  const emailCursor = Buffer.from(JSON.stringify([deepEmail.email, deepEmail.id])).toString('base64url');
  const oneEmail = (await c.query(`SELECT email FROM subscriber WHERE email LIKE 'radia.%' ORDER BY email LIMIT 1 OFFSET 77`)).rows[0].email as string;

  const cases: [string, ListQuery][] = [
    ['first page, newest first', {}],
    ['page deep in the list (keyset, ~row 600k)', { after: deepCursor }],
    ['first page, email A-Z', { sort: 'email_asc' }],
    ['deep page, email A-Z', { sort: 'email_asc', after: emailCursor }],
    ['search an exact address', { q: oneEmail }],
    ['search "lovelace" (1 in 30)', { q: 'lovelace' }],
    ['search "radia.perlman1234" (near miss, 0 rows)', { q: 'radia.perlman1234' }],
    ['search "@mit.edu" (1 in 20)', { q: '@mit.edu' }],
    ['search "zzqx" (no match)', { q: 'zzqx' }],
    ['status = suspended (1%)', { status: 'suspended' }],
    ['frequency = weekly, oldest first', { frequency: 'weekly', sort: 'created_asc' }],
    ['topic contains "protein folding"', { topic: 'protein folding' }],
    ['topic "quantum" + status active', { topic: 'quantum', status: 'active' }],
    ['search "hopper" + status active, email A-Z', { q: 'hopper', status: 'active', sort: 'email_asc' }],
  ];
  const results: { case: string; rows: number; p50: number; p95: number; max: number }[] = [];
  log(`\n${'case'.padEnd(48)} ${'rows'.padStart(5)} ${'p50 ms'.padStart(8)} ${'p95 ms'.padStart(8)} ${'max ms'.padStart(8)}`);
  for (const [name, q] of cases) {
    for (let i = 0; i < 2; i++) await service.list({ ...q, limit: 50 });
    const times: number[] = [];
    let rows = 0;
    for (let i = 0; i < RUNS; i++) {
      const t = process.hrtime.bigint();
      rows = (await service.list({ ...q, limit: 50 })).rows.length;
      times.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
    times.sort((a, b) => a - b);
    const r = { case: name, rows, p50: times[Math.floor(RUNS / 2)], p95: times[Math.ceil(RUNS * 0.95) - 1], max: times[RUNS - 1] };
    results.push(r);
    log(`${name.padEnd(48)} ${String(rows).padStart(5)} ${r.p50.toFixed(1).padStart(8)} ${r.p95.toFixed(1).padStart(8)} ${r.max.toFixed(1).padStart(8)}${r.p95 > BUDGET_MS ? '  OVER BUDGET' : ''}`);
  }
  await prisma.$disconnect();
  await c.end();
  const worst = Math.max(...results.map((r) => r.p95));
  log(`\nworst p95: ${worst.toFixed(1)} ms (budget ${BUDGET_MS} ms, ${SUBSCRIBERS.toLocaleString('en')} subscribers, 50 rows a page, through AdminSubscribersService.list)`);
  process.stdout.write(JSON.stringify({ subscribers: SUBSCRIBERS, budgetMs: BUDGET_MS, worstP95Ms: Number(worst.toFixed(1)), results }) + '\n');
  if (worst > BUDGET_MS) process.exitCode = 1;
}

main().catch((e) => {
  process.stderr.write(`bench:admin failed: ${(e as Error).stack}\n`);
  process.exit(1);
});
