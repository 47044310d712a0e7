import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { digestFromPage } from '../src/ingestion/parsers/digest-input';
import { InMemoryStats } from '../src/matching/engine';
import { createTestDatabase, tableCounts, TestDatabase, withClient } from './helpers/test-db';
import { deleteKeys, TEST_REDIS_URL } from './helpers/test-app';

const ROOT = join(__dirname, '..');
const CLI = join(ROOT, 'dist/src/cli.js');
const PAGE = join(ROOT, 'prisma/seed-digests/002_80ae0b6a3b65c4c3.txt');

describe('command line (the built dist/src/cli.js, as users run it)', () => {
  let db: TestDatabase;
  const prefix = `pbtest-cli-${process.pid}`;
  const dir = mkdtempSync(join(tmpdir(), 'paperboy-cli-'));

  const run = (args: string[], env: Record<string, string> = {}) =>
    spawnSync(process.execPath, [CLI, ...args], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, DATABASE_URL: db.url, REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: prefix, LOG_LEVEL: 'error', ...env },
    });

  beforeAll(async () => {
    if (!existsSync(CLI)) throw new Error('dist/src/cli.js is missing: `npm test` builds it first (npm run build)');
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
    await deleteKeys(prefix);
  });

  it('ingests a page, then reports the same page as a no-op', () => {
    const first = run(['ingest', PAGE]);
    expect(first.stderr).toBe('');
    expect(first.status).toBe(0);
    expect(first.stdout).toMatch(/002_80ae0b6a3b65c4c3\.txt: digest \d+ \(daily-papers, \d{4}-09-03\) stored: 39 papers, 39 new/);
    const again = run(['ingest', PAGE]);
    expect(again.status).toBe(0);
    expect(again.stdout).toMatch(/was already ingested; nothing stored/);
  });

  it('counts the collection statistics again (stats:rebuild)', async () => {
    await withClient(db.url, (c) => c.query(`UPDATE term_stat SET df = df + 1`));
    const r = run(['stats:rebuild']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^collection statistics counted again: 39 papers, \d+ terms \(ingestion held for \d+ ms\)$/m);
    // Each count is the page's again, not off by the one added above.
    const expected = InMemoryStats.fromPapers(digestFromPage(readFileSync(PAGE, 'utf8')).papers.map((p, i) => ({ id: String(i), ...p })));
    const { rows } = await withClient(db.url, (c) => c.query(`SELECT term, df FROM term_stat WHERE term IN ('model', 'learn', 'languag model')`));
    expect(rows).toHaveLength(3);
    for (const r of rows) expect([r.term, r.df]).toEqual([r.term, expected.df(r.term)]);
  });

  it('rejects a malformed page with the file and line, exit code 2, and stores nothing', async () => {
    const before = await tableCounts(db.url);
    const bad = join(dir, 'bad.txt');
    writeFileSync(bad, 'new\n\nJul 15\n\nOnly a title\n');
    const r = run(['ingest', bad]);
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe(`error: ${bad}: line 5: the paper "Only a title" has no abstract after it`);
    const badJson = join(dir, 'bad.json');
    writeFileSync(badJson, '{"date": "2025-01-01", "papers": [{"title": "x"}]}');
    const j = run(['ingest', badJson]);
    expect(j.status).toBe(2);
    expect(j.stderr).toMatch(/bad\.json: papers\[0\]\.abstract: /);
    expect(run(['ingest', join(dir, 'missing.txt')]).stderr).toMatch(/missing\.txt: cannot read \(ENOENT\)/);
    expect(await tableCounts(db.url)).toEqual(before);
  });

  it('refuses invalid configuration, naming the variable', () => {
    const r = run(['ingest', PAGE], { PORT: 'eighty' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/PORT: /);
  });

  it('prints usage errors with exit code 2', () => {
    const r = run(['no-such-command']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/unknown command/);
  });

  it('writes all of a large result through a pipe, as to a file', () => {
    const args = ['match', '--papers', 'test/fixtures/eval/papers.jsonl', '--topics', 'bench/coverage-topics.json'];
    const file = join(dir, 'match.json');
    const fd = openSync(file, 'w');
    const toFile = spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, stdio: ['ignore', fd, 'pipe'], timeout: 60_000 });
    closeSync(fd);
    expect(toFile.status).toBe(0);
    const written = readFileSync(file, 'utf8');
    // Larger than a pipe takes at once (64 KiB), so an exit before the pipe drained would cut it.
    expect(written.length).toBeGreaterThan(128 * 1024);
    // Through a shell pipe into another program, as `… | jq` runs it.
    const piped = spawnSync('sh', ['-c', `"${process.execPath}" "${CLI}" ${args.join(' ')} | cat`], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    expect(piped.status).toBe(0);
    expect(piped.stdout).toBe(written);
    expect(Object.keys(JSON.parse(piped.stdout)).length).toBeGreaterThan(100);
  });
});
