import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ArxivApiSource } from '../src/ingestion/sources/arxiv-api.source';
import { ArxivRssSource } from '../src/ingestion/sources/arxiv-rss.source';
import { HfDailySource } from '../src/ingestion/sources/hf-daily.source';
import { FetchError, RequestSpacer, safeFetch } from '../src/ingestion/sources/safe-fetch';
import { Fetcher, SourceBatch } from '../src/ingestion/sources/source.types';
import { FixtureServer, send } from './helpers/fixture-server';

const FIXTURES = join(__dirname, 'fixtures/sources');
const fixture = (name: string) => readFileSync(join(FIXTURES, name), 'utf8');
const day = (s: string) => new Date(`${s}T00:00:00Z`);
const local: Fetcher = (url, accept) => safeFetch(url, { allowHosts: ['127.0.0.1'], accept });

async function collect(it: AsyncIterable<SourceBatch>): Promise<SourceBatch[]> {
  const out: SourceBatch[] = [];
  for await (const b of it) out.push(b);
  return out;
}

async function failure(p: Promise<unknown>): Promise<FetchError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof FetchError) return e;
    throw e;
  }
  throw new Error('expected a FetchError');
}

describe('safeFetch against a local server', () => {
  let s: FixtureServer;
  beforeAll(async () => {
    s = await FixtureServer.start();
    s.route('/ok', (_req, res) => send(res, 200, 'text/plain', 'hello'))
      .route('/to-metadata', (_req, res) => res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end())
      .route('/to-localhost', (_req, res) => res.writeHead(301, { location: `http://localhost:${s.port}/ok` }).end())
      .route('/to-file', (_req, res) => res.writeHead(302, { location: 'file:///etc/passwd' }).end())
      .route('/relative', (_req, res) => res.writeHead(307, { location: '/ok' }).end())
      .route('/loop', (_req, res) => res.writeHead(302, { location: '/loop' }).end())
      .route('/big', (_req, res) => send(res, 200, 'text/plain', 'x'.repeat(5000)))
      .route('/big-chunked', (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        for (let i = 0; i < 10; i++) res.write('y'.repeat(500));
        res.end();
      })
      .route('/hang', () => undefined)
      .route('/gzip', (_req, res) => res.writeHead(200, { 'content-encoding': 'gzip' }).end('not really gzip'))
      .route('/500', (_req, res) => send(res, 500, 'text/plain', 'oops'))
      .route('/404', (_req, res) => send(res, 404, 'text/plain', 'nope'));
  });
  afterAll(() => s.stop());

  it('fetches from an allowed host and follows relative redirects', async () => {
    expect((await local(`${s.url}/ok`, '*/*')).body.toString()).toBe('hello');
    const r = await local(`${s.url}/relative`, '*/*');
    expect(r.url).toBe(`${s.url}/ok`);
  });

  it('refuses loopback unless allowed, and private addresses on every redirect hop', async () => {
    expect((await failure(safeFetch(`${s.url}/ok`))).message).toBe('refused: 127.0.0.1 is a private or reserved address');
    expect((await failure(local(`${s.url}/to-metadata`, '*/*'))).message).toBe('refused: 169.254.169.254 is a private or reserved address');
    // A host name is resolved and its addresses checked at connect time: localhost → 127.0.0.1 is refused.
    const viaDns = await failure(local(`${s.url}/to-localhost`, '*/*'));
    expect(viaDns.message).toMatch(/^refused: localhost resolves to (127\.0\.0\.1|::1), a private or reserved address$/);
    expect(viaDns.retriable).toBe(false);
    expect((await failure(local(`${s.url}/to-file`, '*/*'))).message).toMatch(/http and https only/);
    expect(s.requestsTo('/ok')).toHaveLength(2); // the two successful fetches above, nothing after a refusal
  });

  it('caps redirects, size and time', async () => {
    expect((await failure(local(`${s.url}/loop`, '*/*'))).message).toMatch(/more than 5 redirects$/);
    const opts = { allowHosts: ['127.0.0.1'], maxBytes: 1000 };
    expect((await failure(safeFetch(`${s.url}/big`, opts))).message).toMatch(/response of 5000 bytes is over the 1000-byte limit/);
    expect((await failure(safeFetch(`${s.url}/big-chunked`, opts))).message).toMatch(/response is over the 1000-byte limit/);
    const started = Date.now();
    const slow = await failure(safeFetch(`${s.url}/hang`, { allowHosts: ['127.0.0.1'], timeoutMs: 300 }));
    expect(slow.message).toMatch(/no complete answer within the time limit/);
    expect(slow.retriable).toBe(true);
    expect(Date.now() - started).toBeLessThan(2000);
    expect((await failure(local(`${s.url}/gzip`, '*/*'))).message).toMatch(/content-encoding gzip/);
  });

  it('5xx is worth retrying, 4xx is not', async () => {
    const e500 = await failure(local(`${s.url}/500`, '*/*'));
    expect([e500.status, e500.retriable, e500.message]).toEqual([500, true, '127.0.0.1:' + s.port + '/500: HTTP 500']);
    const e404 = await failure(local(`${s.url}/404`, '*/*'));
    expect([e404.status, e404.retriable]).toEqual([404, false]);
  });
});

describe('source adapters against recorded-format fixtures', () => {
  let s: FixtureServer;
  beforeEach(async () => {
    s = await FixtureServer.start();
  });
  afterEach(() => s.stop());

  it('Hugging Face: pages through a day, skips empty days, one digest per day', async () => {
    const items = JSON.parse(fixture('hf-daily-papers.json')) as unknown[];
    s.route('/api/daily_papers', (_req, res, url) => {
      const date = url.searchParams.get('date');
      const limit = Number(url.searchParams.get('limit'));
      const page = Number(url.searchParams.get('p'));
      const all = date === '2026-11-20' ? items : [];
      send(res, 200, 'application/json', JSON.stringify(all.slice(page * limit, page * limit + limit)));
    });
    const source = new HfDailySource(s.url, local, 2);
    const batches = await collect(source.pull({ from: day('2026-11-20'), to: day('2026-11-21') }));
    expect(batches.map((b) => b.progress)).toEqual([
      { done: 1, total: 2 },
      { done: 2, total: 2 },
    ]);
    expect(batches[0].digests).toHaveLength(1);
    expect(batches[0].digests[0]).toMatchObject({ source: 'hf-daily', date: day('2026-11-20') });
    expect(batches[0].digests[0].papers.map((p) => p.arxivId)).toEqual(['2611.01001', '2611.01002']);
    expect(batches[0].skipped).toBe(1);
    expect(batches[1].digests).toEqual([]); // an empty day
    expect(s.requests.map((r) => `${r.query.get('date')}:${r.query.get('p')}`)).toEqual(['2026-11-20:0', '2026-11-20:1', '2026-11-21:0']);
  });

  it('Hugging Face: a server error fails the pull (retriable)', async () => {
    s.route('/api/daily_papers', (_req, res) => send(res, 503, 'text/plain', 'maintenance'));
    const e = await failure(collect(new HfDailySource(s.url, local).pull({ from: day('2026-11-20'), to: day('2026-11-20') })));
    expect([e.status, e.retriable]).toEqual([503, true]);
  });

  it('arXiv API: pages through the range one request at a time, spaced, one digest per submission day', async () => {
    const page2 = fixture('arxiv-api-cs.LG.xml')
      .replace(/<entry>[\s\S]*<\/entry>/, '')
      .replace('</feed>', `<entry><id>http://arxiv.org/abs/2611.01006v1</id><published>2026-11-19T08:00:00Z</published><title>Late Paper</title><summary>Submitted on the second day of the range.</summary><author><name>A. Author</name></author><category term="cs.LG"/></entry></feed>`)
      .replace('<opensearch:startIndex xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">0', '<opensearch:startIndex xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">2');
    s.route('/api/query', (_req, res, url) =>
      setTimeout(() => send(res, 200, 'application/atom+xml', url.searchParams.get('start') === '0' ? fixture('arxiv-api-cs.LG.xml') : page2), 20),
    );
    const spacer = new RequestSpacer(150);
    const source = new ArxivApiSource(s.url, 'cs.LG', (u, a) => spacer.run(() => local(u, a)), 2);
    const batches = await collect(source.pull({ from: day('2026-11-18'), to: day('2026-11-19') }));
    const q = s.requestsTo('/api/query');
    expect(q.map((r) => [r.query.get('start'), r.query.get('max_results')])).toEqual([
      ['0', '2'],
      ['2', '2'],
    ]);
    expect(q[0].query.get('search_query')).toBe('cat:cs.LG AND submittedDate:[202611180000 TO 202611192359]');
    expect(q[0].query.get('sortBy')).toBe('submittedDate');
    expect(q[1].at - q[0].at).toBeGreaterThanOrEqual(150);
    expect(s.maxConcurrent).toBe(1);
    const digests = batches.flatMap((b) => b.digests);
    expect(digests.map((d) => [d.source, d.date.toISOString().slice(0, 10), d.papers.map((p) => p.arxivId)])).toEqual([
      ['arxiv-api:cs.lg', '2026-11-18', ['2611.01001', '2611.01005']],
      ['arxiv-api:cs.lg', '2026-11-19', ['2611.01006']],
    ]);
    expect(batches.at(-1)!.progress).toEqual({ done: 3, total: 3 });
  });

  it('arXiv API: the error feed fails the pull for good', async () => {
    s.route('/api/query', (_req, res) => send(res, 400, 'application/atom+xml', fixture('arxiv-api-error.xml')));
    const e = await failure(collect(new ArxivApiSource(s.url, 'cs.LG', local).pull({ from: day('2026-11-18'), to: day('2026-11-18') })));
    expect(e.retriable).toBe(false);
    s.route('/api/query', (_req, res) => send(res, 200, 'application/atom+xml', fixture('arxiv-api-error.xml')));
    expect((await failure(collect(new ArxivApiSource(s.url, 'cs.LG', local).pull({ from: day('2026-11-18'), to: day('2026-11-18') })))).message).toBe(
      'arXiv API error: incorrect id format for 1234',
    );
  });

  it('arXiv RSS: new and cross-lists become the digest, replacements become revisions', async () => {
    s.route('/rss/cs.LG', (_req, res) => send(res, 200, 'application/rss+xml', fixture('arxiv-rss-cs.LG.xml')));
    const [batch] = await collect(new ArxivRssSource(s.url, 'cs.LG', local).pull());
    expect(batch.digests).toHaveLength(1);
    expect(batch.digests[0]).toMatchObject({ source: 'arxiv-rss:cs.lg', date: day('2026-11-20') });
    expect(batch.digests[0].papers.map((p) => p.arxivId)).toEqual(['2611.01001', '2611.01004']);
    expect(batch.revisions).toEqual([
      expect.objectContaining({ arxivId: '2610.09999', version: 2, title: 'Adversarial Robustness of Neural Collapse, Revisited' }),
    ]);
  });

  it('arXiv RSS: a redirect to a private address is refused', async () => {
    s.route('/rss/cs.AI', (_req, res) => res.writeHead(302, { location: 'http://10.0.0.7/rss/cs.AI' }).end());
    const e = await failure(collect(new ArxivRssSource(s.url, 'cs.AI', local).pull()));
    expect(e.message).toBe('refused: 10.0.0.7 is a private or reserved address');
  });
});
