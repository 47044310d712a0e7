import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { ANALYZER_VERSION, compileTopics, documentTerms, InMemoryStats, matchPapers } from '../src/matching/engine';
import { AppConfig } from '../src/config/app-config';
import { CollectionStatsRepository } from '../src/matching/collection-stats.repository';
import { MatchingRepository } from '../src/matching/matching.repository';
import { MatchingService } from '../src/matching/matching.service';
import { IngestionService } from '../src/ingestion/ingestion.service';
import { digestFromPage } from '../src/ingestion/parsers/digest-input';
import { titleKey } from '../src/ingestion/parsers/paper-identity';
import { SubscribersService } from '../src/subscribers/subscribers.service';
import { startTestApp, TestApp } from './helpers/test-app';
import { createTestDatabase, TestDatabase, withClient } from './helpers/test-db';

const PAGE = readFileSync(join(__dirname, '../prisma/seed-digests/000_41eb20fd0f437e65.txt'), 'utf8');
// The last is written by no paper of the page: the job must load the statistics of the term and
// the rest it is read as (see termReading in the engine), "reasoning"'s family included.
const TOPICS = ['large language models', 'reinforcement learning', 'fine-tuning', 'continual learning', 'in-context learning', 'neural collapse', 'large language model reasoning'];

/**
 * The matching job scores a digest's topics in batches (MATCH_TOPIC_BATCH) against one snapshot of
 * the papers' statistics, with feedback vectors built once: with a batch of one topic and feedback
 * on, it must store exactly what the engine (and so the CLI) gives for all topics at once. Its
 * statistics are counted again when an earlier text analysis made them, and papers stored during
 * that are counted once.
 */
describe('matching job: topic batches, feedback ranking and statistics (real PostgreSQL)', () => {
  let db: TestDatabase;
  let t: TestApp;

  beforeAll(async () => {
    db = await createTestDatabase();
    t = await startTestApp({ DATABASE_URL: db.url, MATCH_FEEDBACK: 'true' }, { workers: false });
    await t.app.get(SubscribersService).addOrUpdate({ email: 'ada@example.org', topics: TOPICS, status: 'active', consentSource: 'test' });
  });

  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  it('stores, batch by batch, what the engine gives for every topic at once', async () => {
    const res = await request(t.url).post('/api/digests/import').set('Content-Type', 'text/plain').send(PAGE).expect(201);
    const digestId: number = res.body.digestId;
    // One topic a batch (the setting's floor is 100, so the service gets its own configuration).
    const config = { env: { ...t.config.env, MATCH_TOPIC_BATCH: 1 } } as AppConfig;
    const service = new MatchingService(t.app.get(MatchingRepository), t.app.get(CollectionStatsRepository), config);
    const result = await service.matchDigest(digestId);
    expect(result.topics).toBe(TOPICS.length);

    const { papers, stored } = await withClient(db.url, async (c) => {
      const papers = (
        await c.query(
          `SELECT p.id, p.title, p.abstract, p.authors FROM digest_paper dp JOIN paper p ON p.id = dp.paper_id
           WHERE dp.digest_id = $1 ORDER BY dp.position`,
          [digestId],
        )
      ).rows.map((r) => ({ id: String(r.id), title: r.title as string, abstract: r.abstract as string, authors: r.authors as string[] }));
      const stored = (
        await c.query(
          `SELECT t.query, m.paper_id, m.score, m.why FROM topic_match m JOIN topic t ON t.id = m.topic_id
           WHERE m.digest_id = $1 ORDER BY t.query, m.score DESC, m.paper_id`,
          [digestId],
        )
      ).rows;
      return { papers, stored };
    });

    // The collection is this page alone (the database holds nothing else).
    const engine = matchPapers(
      compileTopics(TOPICS.map((query) => ({ id: query, query }))),
      papers,
      InMemoryStats.fromPapers(papers),
      { feedback: true },
    );
    const expected = [...engine]
      .flatMap(([query, list]) => list.map((m) => ({ query, paper_id: Number(m.paperId), score: m.score, why: m.why })))
      .sort((a, b) => (a.query < b.query ? -1 : a.query > b.query ? 1 : b.score - a.score || a.paper_id - b.paper_id));
    expect(expected.length).toBeGreaterThan(10);
    expect(new Set(expected.map((e) => e.query)).size).toBeGreaterThan(2);
    expect(expected.find((e) => e.query === 'large language model reasoning')?.why).toContain('(related to "reasoning")');
    expect(stored).toEqual(expected);
    // Feedback changed some scores: the comparison above covers the feedback path.
    const plain = matchPapers(compileTopics(TOPICS.map((query) => ({ id: query, query }))), papers, InMemoryStats.fromPapers(papers));
    expect([...plain.values()].flat().map((m) => m.score)).not.toEqual([...engine.values()].flat().map((m) => m.score));
  });

  /** The statistics as stored: counters, version and every term's df. */
  const storedStats = () =>
    withClient(db.url, async (c) => {
      const counters = (await c.query(`SELECT doc_count, title_tokens::int, abstract_tokens::int, analyzer_version FROM collection_stat`)).rows;
      const df = new Map<string, number>((await c.query(`SELECT term, df FROM term_stat`)).rows.map((r) => [r.term as string, r.df as number]));
      return { counters, df };
    });

  /** Checks that the stored statistics are what counting the stored papers gives; returns both. */
  const expectStatsOfStoredPapers = async () => {
    const papers = await withClient(db.url, async (c) =>
      (await c.query(`SELECT id, title, abstract, arxiv_version FROM paper ORDER BY id`)).rows.map((r) => ({
        id: String(r.id),
        title: r.title as string,
        abstract: r.abstract as string,
        version: r.arxiv_version as number | null,
      })),
    );
    const expected = InMemoryStats.fromPapers(papers);
    const { counters, df } = await storedStats();
    expect(counters).toEqual([{ doc_count: papers.length, title_tokens: expected.totalTitleLength, abstract_tokens: expected.totalAbstractLength, analyzer_version: ANALYZER_VERSION }]);
    const terms = new Set(papers.flatMap((p) => documentTerms(p)));
    expect(df.size).toBe(terms.size);
    for (const term of terms) expect([term, df.get(term)]).toEqual([term, expected.df(term)]);
    return { papers, df };
  };

  it('counts the statistics again from the stored papers when an earlier text analysis made them', async () => {
    // What ingestion recorded, by the running analysis.
    const { papers } = await expectStatsOfStoredPapers();
    expect(papers.length).toBeGreaterThan(50);
    const current = await storedStats();

    // Statistics as an earlier analysis left them: other keys, other counts, an older version.
    await withClient(db.url, async (c) => {
      await c.query(`UPDATE term_stat SET df = df + 3`);
      await c.query(`INSERT INTO term_stat (term, df) VALUES ('zz-stale-stem', 40), ('zz-stale a-bigram', 12)`);
      await c.query(`UPDATE collection_stat SET analyzer_version = ${ANALYZER_VERSION - 1}, doc_count = doc_count + 7`);
    });
    const stats = t.app.get(CollectionStatsRepository);
    expect(await stats.ensureCurrent()).toBe(true);
    expect(await storedStats()).toEqual(current);
    // Current now: nothing to do.
    expect(await stats.ensureCurrent()).toBe(false);

    // Statistics of a later analysis (a newer process during a rolling upgrade) are left alone.
    await withClient(db.url, (c) => c.query(`UPDATE collection_stat SET analyzer_version = ${ANALYZER_VERSION + 1}`));
    expect(await stats.ensureCurrent()).toBe(false);
    await withClient(db.url, (c) => c.query(`UPDATE collection_stat SET analyzer_version = ${ANALYZER_VERSION}`));
  });

  it('the matching job brings stale statistics up to date before it scores a digest', async () => {
    const before = await storedStats();
    await withClient(db.url, async (c) => {
      await c.query(`UPDATE term_stat SET df = 1`);
      await c.query(`UPDATE collection_stat SET analyzer_version = ${ANALYZER_VERSION - 1}`);
    });
    const digestId = await withClient(db.url, async (c) => (await c.query(`SELECT id FROM digest ORDER BY id LIMIT 1`)).rows[0].id as number);
    await t.app.get(MatchingService).matchDigest(digestId);
    expect(await storedStats()).toEqual(before);
  });

  it('two pages that share papers, stored at once while the statistics are counted again: each paper stored once and counted once', async () => {
    const stats = t.app.get(CollectionStatsRepository);
    const pages = ['001_4f5b244bc862d203', '002_80ae0b6a3b65c4c3'].map((p) => readFileSync(join(__dirname, `../prisma/seed-digests/${p}.txt`), 'utf8'));
    // Two rebuilds and two pages at once, in whatever order PostgreSQL lets them run.
    await Promise.all([
      stats.rebuild(),
      request(t.url).post('/api/digests/import').set('Content-Type', 'text/plain').send(pages[0]).expect(201),
      stats.rebuild(),
      request(t.url).post('/api/digests/import').set('Content-Type', 'text/plain').send(pages[1]).expect(201),
    ]);
    const { papers } = await expectStatsOfStoredPapers();
    // Pages 0–2 hold 62 + 39 + … papers, some of them on two pages: each is stored once.
    const keys = [PAGE, ...pages].flatMap((page) => digestFromPage(page).papers.map((p) => p.arxivId ?? titleKey(p.title)));
    expect(papers.length).toBe(new Set(keys).size);
    expect(papers.length).toBeLessThan(keys.length);
  });

  it('arXiv replacements keep the statistics what counting the stored papers gives, however they interleave', async () => {
    const ingestion = t.app.get(IngestionService);
    const stats = t.app.get(CollectionStatsRepository);
    // The seed pages carry no arXiv ids: two stored papers get one, as a feed would have given them.
    const [a, b] = await withClient(db.url, async (c) =>
      (
        await c.query(
          `UPDATE paper SET arxiv_id = '2611.0' || lpad(id::text, 4, '0'), arxiv_version = 1
           WHERE id IN (SELECT id FROM paper ORDER BY id LIMIT 2) RETURNING id, arxiv_id, title`,
        )
      ).rows
        .map((r) => ({ id: r.id as number, arxivId: r.arxiv_id as string, title: r.title as string }))
        .sort((x, y) => x.id - y.id),
    );
    const revision = (arxivId: string, version: number, title: string, abstract: string) => ({ arxivId, version, title, abstract, authors: [], categories: [] });
    // Paper a: versions 2 and 3 arrive at once (3 must win whichever runs first); paper b: a
    // shorter title and an abstract with words no other paper has; a rebuild runs meanwhile.
    const results = await Promise.all([
      ingestion.revisePapers([revision(a.arxivId, 3, `${a.title}: the third version`, 'Quasiperiodic zebrafinch embeddings, revised for the third time.')]),
      ingestion.revisePapers([revision(a.arxivId, 2, `${a.title}, second version`, 'An interim abstract about sparse transformers.')]),
      stats.rebuild(),
      ingestion.revisePapers([revision(b.arxivId, 2, 'Short', 'Holographic marmoset tokenizers. Nothing else.')]),
    ]);
    expect(results[0]).toEqual({ updated: 1, skipped: 0 });
    expect(results[3]).toEqual({ updated: 1, skipped: 0 });
    // The same version again, or an older one, changes nothing.
    expect(await ingestion.revisePapers([revision(a.arxivId, 3, 'Other', 'Other.'), revision(b.arxivId, 1, 'Old', 'Old.')])).toEqual({ updated: 0, skipped: 2 });

    const { papers, df } = await expectStatsOfStoredPapers();
    expect(papers.find((p) => p.id === String(a.id))).toMatchObject({ version: 3, abstract: expect.stringMatching(/^Quasiperiodic zebrafinch/) });
    expect(papers.find((p) => p.id === String(b.id))).toMatchObject({ version: 2, title: 'Short' });
    expect(df.get('zebrafinch')).toBe(1);
    expect(df.has('interim')).toBe(false);
  });

  it('a rebuild counts beside the live statistics: pages and revisions stored during its count are neither held up nor lost', async () => {
    const stats = t.app.get(CollectionStatsRepository);
    const ingestion = t.app.get(IngestionService);
    const page = readFileSync(join(__dirname, '../prisma/seed-digests/003_06d655af0e2c89e8.txt'), 'utf8');
    const [revised] = await withClient(db.url, async (c) => (await c.query(`SELECT arxiv_id FROM paper WHERE arxiv_id IS NOT NULL ORDER BY id LIMIT 1`)).rows);
    await withClient(db.url, (c) => c.query(`UPDATE collection_stat SET analyzer_version = ${ANALYZER_VERSION - 1}`));
    let resume!: () => void;
    const paused = new Promise<void>((r) => (resume = r));
    let counting!: () => void;
    const counted = new Promise<void>((r) => (counting = r));
    const rebuild = stats.rebuild({
      onPage: async () => {
        counting();
        await paused;
      },
    });
    await counted;
    // The rebuild has counted its snapshot and waits: ingestion and revisions go through meanwhile.
    expect(await storedStats().then((s) => s.counters[0].analyzer_version)).toBe(ANALYZER_VERSION - 1);
    await request(t.url).post('/api/digests/import').set('Content-Type', 'text/plain').send(page).expect(201);
    expect(await ingestion.revisePapers([{ arxivId: revised.arxiv_id, version: 9, title: 'Ninth', abstract: 'Ultrasonic axolotl sketches in the ninth version.', authors: [], categories: [] }])).toEqual({ updated: 1, skipped: 0 });
    resume();
    await rebuild;

    const { papers, df } = await expectStatsOfStoredPapers();
    expect(papers.some((p) => p.abstract.startsWith('Ultrasonic axolotl'))).toBe(true);
    expect(df.get('axolotl')).toBe(1);
    // Writers count once again, and the side table is empty.
    expect(await withClient(db.url, async (c) => (await c.query(`SELECT rebuilding, (SELECT count(*)::int FROM term_stat_next) AS side FROM collection_stat`)).rows)).toEqual([{ rebuilding: false, side: 0 }]);
  });

  it('ends a rebuild that a dead process left marked as running', async () => {
    const before = await storedStats();
    await withClient(db.url, async (c) => {
      await c.query(`UPDATE collection_stat SET rebuilding = true, next_doc_count = 5`);
      await c.query(`INSERT INTO term_stat_next (term, df) VALUES ('zz-partial', 3)`);
    });
    expect(await t.app.get(CollectionStatsRepository).ensureCurrent()).toBe(false);
    expect(await withClient(db.url, async (c) => (await c.query(`SELECT rebuilding, next_doc_count, (SELECT count(*)::int FROM term_stat_next) AS side FROM collection_stat`)).rows)).toEqual([
      { rebuilding: false, next_doc_count: 0, side: 0 },
    ]);
    expect(await storedStats()).toEqual(before);
  });
});
