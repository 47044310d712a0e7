import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { getQueueToken } from '@nestjs/bullmq';
import { Queue } from 'bullmq';
import { runCli } from '../src/cli';
import { SourcesScheduler } from '../src/ingestion/sources/sources.scheduler';
import { QUEUES } from '../src/infra/queue/queues';
import { SubscribersService } from '../src/subscribers/subscribers.service';
import { FixtureServer, send } from './helpers/fixture-server';
import { SmtpCapture } from './helpers/smtp-capture';
import { deleteKeys, startTestApp, TEST_REDIS_URL, TestApp, waitFor } from './helpers/test-app';
import { createTestDatabase, TestDatabase, withClient } from './helpers/test-db';

const FIXTURES = join(__dirname, 'fixtures/sources');
const fixture = (name: string) => readFileSync(join(FIXTURES, name), 'utf8');
const flat = (s: string | undefined) => (s ?? '').replace(/\s+/g, ' ');
const today = () => new Date().toISOString().slice(0, 10);

const SHARED_TITLE = 'Sparse Expert Routing Delays Neural Collapse'; // on Hugging Face and in the arXiv listing
const CROSS_TITLE = 'Curriculum Pruning for Reinforcement Learning Agents'; // arXiv cross-list only
const EMPTY_RSS = '<?xml version="1.0"?><rss version="2.0"><channel><title>cs.LG</title></channel></rss>';

describe('scheduled source pulls: fetch → ingest → match → mail (real PostgreSQL, Redis, SMTP, local HTTP fixtures)', () => {
  let db: TestDatabase;
  let smtp: SmtpCapture;
  let feeds: FixtureServer;
  let t: TestApp;
  let ready = false;
  let hfRequestsWhenReady = 0;

  const query = async <T = Record<string, unknown>>(sql: string, params: unknown[] = []) =>
    (await withClient(db.url, (c) => c.query(sql, params))).rows as T[];

  beforeAll(async () => {
    db = await createTestDatabase();
    smtp = await SmtpCapture.start();
    feeds = await FixtureServer.start();
    // Until the subscribers exist, the feeds are empty; then the first Hugging Face request fails
    // once (the pull must be retried) and both sources serve their fixtures.
    feeds.route('/api/daily_papers', (_req, res, url) => {
      if (!ready) return send(res, 200, 'application/json', '[]');
      if (hfRequestsWhenReady++ === 0) return send(res, 500, 'text/plain', 'temporarily unavailable');
      send(res, 200, 'application/json', url.searchParams.get('date') === today() && url.searchParams.get('p') === '0' ? fixture('hf-daily-papers.json') : '[]');
    });
    feeds.route('/rss/cs.LG', (_req, res) => send(res, 200, 'application/rss+xml', ready ? fixture('arxiv-rss-cs.LG.xml') : EMPTY_RSS));

    // A paper announced before (version 1): the listing's "replace" announces version 2 of it.
    await query(
      `INSERT INTO paper (arxiv_id, title_key, title, abstract, arxiv_version, authors) VALUES ($1, $2, $3, $4, 1, '{}')`,
      ['2610.09999', 'adversarial robustness of neural collapse', 'Adversarial Robustness of Neural Collapse', 'The first version of the abstract.'],
    );
    t = await startTestApp({
      DATABASE_URL: db.url,
      SMTP_URL: smtp.url,
      SOURCES: 'hf-daily,arxiv-rss:cs.LG',
      SOURCE_SCHEDULE_HF: '* * * * * *',
      SOURCE_SCHEDULE_ARXIV: '* * * * * *',
      SOURCE_RETRY_DELAY_MS: '200',
      HF_API_URL: feeds.url,
      ARXIV_RSS_URL: feeds.url,
      ARXIV_REQUEST_INTERVAL_MS: '50',
      FETCH_ALLOW_HOSTS: '127.0.0.1',
    });
    const subscribers = t.app.get(SubscribersService);
    await subscribers.addOrUpdate({ email: 'ada@example.org', topics: ['neural collapse'], status: 'active', consentSource: 'test' });
    await subscribers.addOrUpdate({ email: 'kurt@example.org', topics: ['"reinforcement learning"'], status: 'active', consentSource: 'test' });
    ready = true;
  });

  afterAll(async () => {
    await t?.close();
    await feeds?.stop();
    await smtp?.stop();
    await db?.drop();
  });

  const mailsWith = (email: string, title: string) => smtp.to(email).filter((m) => flat(m.parsed.text).includes(title));

  it('pulls each enabled source on its schedule and mails the new papers', async () => {
    await waitFor('ada to be mailed the shared paper', async () => mailsWith('ada@example.org', SHARED_TITLE).length > 0, 30_000);
    await waitFor('kurt to be mailed the cross-listed paper', async () => mailsWith('kurt@example.org', CROSS_TITLE).length > 0, 30_000);
  });

  it('mails a paper carried by two sources, pulled again and again, once', async () => {
    // Both sources have carried the paper, and several more scheduled pulls have run since.
    await waitFor('both digests with the shared paper', async () => {
      const rows = await query<{ n: number }>(
        `SELECT count(DISTINCT d.source)::int AS n FROM digest d JOIN digest_paper dp ON dp.digest_id = d.id JOIN paper p ON p.id = dp.paper_id
         WHERE p.arxiv_id = '2611.01001' AND d.status = 'composed'`,
      );
      return rows[0].n === 2;
    });
    const digests = await query<{ source: string }>(`SELECT DISTINCT source FROM digest ORDER BY 1`);
    expect(digests.map((d) => d.source)).toEqual(['arxiv-rss:cs.lg', 'hf-daily']);
    const pullsBefore = (await query<{ n: number }>(`SELECT count(*)::int AS n FROM source_pull WHERE status = 'ok'`))[0].n;
    await waitFor('more scheduled pulls', async () => (await query<{ n: number }>(`SELECT count(*)::int AS n FROM source_pull WHERE status = 'ok'`))[0].n >= pullsBefore + 4);
    await new Promise((r) => setTimeout(r, 500));
    expect(mailsWith('ada@example.org', SHARED_TITLE)).toHaveLength(1);
    expect(await query(`SELECT count(*)::int AS n FROM paper WHERE arxiv_id = '2611.01001'`)).toEqual([{ n: 1 }]);
    expect(await query(`SELECT count(*)::int AS n FROM match m JOIN paper p ON p.id = m.paper_id WHERE p.arxiv_id = '2611.01001'`)).toEqual([{ n: 1 }]);
  });

  it('merges what each source knows into one paper record', async () => {
    const [p] = await query(
      `SELECT title, url, pdf_url, code_url, project_url, upvotes, categories, authors, arxiv_version FROM paper WHERE arxiv_id = '2611.01001'`,
    );
    expect(p).toEqual({
      title: SHARED_TITLE,
      url: 'https://arxiv.org/abs/2611.01001',
      pdf_url: 'https://arxiv.org/pdf/2611.01001',
      code_url: 'https://github.com/example/sparse-collapse',
      project_url: 'https://example.github.io/sparse-collapse/',
      upvotes: 42,
      categories: ['cs.LG', 'stat.ML'],
      authors: ['Ada Lovelace', 'Grace Hopper'],
      arxiv_version: 1,
    });
  });

  it('applies an arXiv replacement to the stored paper without mailing it as new', async () => {
    const [p] = await query(`SELECT id, title, abstract, arxiv_version, title_key FROM paper WHERE arxiv_id = '2610.09999'`);
    expect(p).toMatchObject({
      title: 'Adversarial Robustness of Neural Collapse, Revisited',
      abstract: expect.stringMatching(/^A revised version/),
      arxiv_version: 2,
      title_key: 'adversarial robustness of neural collapse revisited',
    });
    expect(await query(`SELECT count(*)::int AS n FROM match WHERE paper_id = $1`, [p.id])).toEqual([{ n: 0 }]);
    expect(await query(`SELECT count(*)::int AS n FROM digest_paper WHERE paper_id = $1`, [p.id])).toEqual([{ n: 0 }]);
    expect(mailsWith('ada@example.org', 'Revisited')).toHaveLength(0);
  });

  it('retries a failing source with backoff and records every attempt; the other source is not held up', async () => {
    const hf = await query<{ attempt: number; status: string; error: string | null }>(
      `SELECT attempt, status, error FROM source_pull WHERE source = 'hf-daily' AND status <> 'running' ORDER BY id`,
    );
    expect(hf.filter((r) => r.status === 'failed')).toEqual([{ attempt: 1, status: 'failed', error: expect.stringMatching(/\/api\/daily_papers: HTTP 500$/) }]);
    // The failed job's second attempt ran (and succeeded), whatever scheduled pulls ran in between.
    expect(hf.filter((r) => r.attempt === 2)).toEqual([{ attempt: 2, status: 'ok', error: null }]);
    // (the pull running at this moment, if any, aside)
    const rss = await query<{ status: string }>(`SELECT status FROM source_pull WHERE source = 'arxiv-rss:cs.lg' AND status <> 'running'`);
    expect(rss.length).toBeGreaterThan(0);
    expect(rss.every((r) => r.status === 'ok')).toBe(true);
    // The replacement counted as an update, the repeats as skipped.
    const counted = await query<{ updated: number; skipped: number }>(
      `SELECT sum(updated_papers)::int AS updated, sum(skipped_papers)::int AS skipped FROM source_pull WHERE source = 'arxiv-rss:cs.lg'`,
    );
    expect(counted[0].updated).toBeGreaterThanOrEqual(1);
    expect(counted[0].skipped).toBeGreaterThan(0);
    // Pulls run one at a time (the sources queue's global concurrency is 1): no two overlap.
    const spans = await query<{ started_at: Date; finished_at: Date }>(`SELECT started_at, finished_at FROM source_pull WHERE finished_at IS NOT NULL ORDER BY started_at`);
    for (let i = 1; i < spans.length; i++) expect(spans[i].started_at.getTime()).toBeGreaterThanOrEqual(spans[i - 1].finished_at.getTime());
  });

  it('keeps one job scheduler per enabled source however many processes upsert them', async () => {
    const queue = t.app.get<Queue>(getQueueToken(QUEUES.sources));
    await t.app.get(SourcesScheduler).sync(); // as a second worker process would at boot
    await t.app.get(SourcesScheduler).sync();
    const ids = (await queue.getJobSchedulers()).map((s) => s.id ?? s.key).sort();
    expect(ids).toEqual(['pull-source:arxiv-rss:cs.lg', 'pull-source:hf-daily']);
    expect((await queue.getJobSchedulers())[0].pattern).toBe('* * * * * *');
  });
});

describe('command line: backfill and sources:status (in process)', () => {
  let db: TestDatabase;
  let feeds: FixtureServer;
  const prefix = `pbtest-src-${process.pid}`;
  const saved = { ...process.env };

  async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    const out: string[] = [];
    const err: string[] = [];
    const o = jest.spyOn(process.stdout, 'write').mockImplementation((s) => (out.push(String(s)), true));
    const e = jest.spyOn(process.stderr, 'write').mockImplementation((s) => (err.push(String(s)), true));
    try {
      const code = await runCli(args);
      return { code, stdout: out.join(''), stderr: err.join('') };
    } finally {
      o.mockRestore();
      e.mockRestore();
    }
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    feeds = await FixtureServer.start();
    feeds.route('/api/daily_papers', (_req, res, url) =>
      send(res, 200, 'application/json', url.searchParams.get('date') === '2026-11-20' && url.searchParams.get('p') === '0' ? fixture('hf-daily-papers.json') : '[]'),
    );
    Object.assign(process.env, {
      DATABASE_URL: db.url,
      REDIS_URL: TEST_REDIS_URL,
      QUEUE_PREFIX: prefix,
      LOG_LEVEL: 'error',
      NODE_ENV: 'test',
      HF_API_URL: feeds.url,
      FETCH_ALLOW_HOSTS: '127.0.0.1',
      SOURCES: 'hf-daily',
    });
  });
  afterAll(async () => {
    process.env = saved;
    await feeds?.stop();
    await db?.drop();
    await deleteKeys(prefix);
  });

  it('backfills a range of days with a progress bar and records the pull', async () => {
    const r = await cli(['backfill', 'hf-daily', '--from', '2026-11-19', '--to', '2026-11-21']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/\nhf-daily: pull \d+: 1 new digest\(s\), 2 new, 0 updated, 1 skipped paper\(s\)\n  skipped: 2026-11-20 page 0: item 2: no title\n$/);
    expect(r.stderr).toContain('hf-daily [##########--------------------] 1/3');
    expect(r.stderr).toContain('hf-daily [##############################] 3/3 2 new, 0 updated');
    expect(feeds.requestsTo('/api/daily_papers').map((q) => q.query.get('date'))).toEqual(['2026-11-19', '2026-11-20', '2026-11-21']);
    const again = await cli(['backfill', 'hf-daily', '--from', '2026-11-20', '--to', '2026-11-20']);
    expect(again.stdout).toMatch(/hf-daily: pull \d+: 0 new digest\(s\), 0 new, 0 updated, 3 skipped paper\(s\)/);
  });

  it('shows the sources, their schedules and the recent pulls', async () => {
    const r = await cli(['sources:status']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^hf-daily +schedule "30 23 \* \* \*" UTC; last pull \S+ \S+ ok\n/);
    expect(r.stdout).toMatch(/Recent pulls:\n  #\d+ \S+ \S+ hf-daily backfill 2026-11-20\.\.2026-11-20: ok, 0 digest\(s\), 0 new, 0 updated, 3 skipped\n  #\d+ .* hf-daily backfill 2026-11-19\.\.2026-11-21: ok, 1 digest\(s\), 2 new/);
    const json = JSON.parse((await cli(['sources:status', '--json'])).stdout);
    expect(json.sources[0]).toMatchObject({ name: 'hf-daily', enabled: true, schedule: '30 23 * * *' });
    expect(json.pulls).toHaveLength(2);
  });

  it('refuses what a source cannot do, with exit code 2', async () => {
    const rss = await cli(['backfill', 'arxiv-rss:cs.LG', '--from', '2026-11-19', '--to', '2026-11-20']);
    expect([rss.code, rss.stderr]).toEqual([2, 'error: arxiv-rss:cs.lg serves only the current listing and cannot backfill; use arxiv-api:CATEGORY for past days\n']);
    const bad = await cli(['backfill', 'rss-of-doom', '--from', '2026-11-19', '--to', '2026-11-20']);
    expect([bad.code, bad.stderr]).toEqual([2, 'error: "rss-of-doom" is not a source (use hf-daily, arxiv-rss:CATEGORY or arxiv-api:CATEGORY)\n']);
    const date = await cli(['backfill', 'hf-daily', '--from', '2026-02-30', '--to', '2026-03-01']);
    expect([date.code, date.stderr]).toEqual([2, 'error: --from: "2026-02-30" is not a date (YYYY-MM-DD)\n']);
    const order = await cli(['backfill', 'hf-daily', '--from', '2026-03-02', '--to', '2026-03-01']);
    expect([order.code, order.stderr]).toEqual([2, 'error: --from must not be after --to\n']);
  });
});
