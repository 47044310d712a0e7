import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTestDatabase, TestDatabase, withClient } from './helpers/test-db';

/**
 * The 20261124000000_delivery_ranges migration on a database that already has deliveries: every
 * delivery must carry exactly the matches it had (match.delivery_id before), and the undelivered
 * matches (and those of a cancelled issue, given back to the pool) must still be undelivered.
 * The migrations are applied as SQL, in order, stopping before it to write the old kind of data.
 */
const DIR = join(__dirname, '../prisma/migrations');
const RANGES = '20261124000000_delivery_ranges';

describe('migration: delivery ranges over existing data', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase({ empty: true });
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('gives every delivery the range of the matches it carried, and leaves the others undelivered', async () => {
    const migrations = readdirSync(DIR).filter((d) => /^\d{14}_/.test(d)).sort();
    expect(migrations).toContain(RANGES);
    const sql = (name: string) => readFileSync(join(DIR, name, 'migration.sql'), 'utf8');
    await withClient(db.url, async (c) => {
      for (const m of migrations.slice(0, migrations.indexOf(RANGES))) await c.query(sql(m));

      // Before: ada had an issue with papers 1 and 3, then one with paper 2, and paper 4 waits;
      // bob's issue was cancelled (its paper went back to the pool: delivery_id reset); cyd has none.
      await c.query(`INSERT INTO digest (id, source, digest_date, content_hash, paper_count, status) VALUES (1, 't', '2026-11-20', 'h', 4, 'composed')`);
      await c.query(`INSERT INTO paper (id, title_key, title, abstract) SELECT g, 'k' || g, 'Paper ' || g, 'a' FROM generate_series(1, 4) g`);
      await c.query(`
        INSERT INTO subscriber (id, email, status, frequency, updated_at) VALUES
          ('00000000-0000-0000-0000-00000000000a', 'ada@example.org', 'active', 'instant', now()),
          ('00000000-0000-0000-0000-00000000000b', 'bob@example.org', 'active', 'instant', now()),
          ('00000000-0000-0000-0000-00000000000c', 'cyd@example.org', 'active', 'instant', now())`);
      await c.query(`
        INSERT INTO delivery (id, subscriber_id, issue_key, paper_count, status) VALUES
          (10, '00000000-0000-0000-0000-00000000000a', 'digest-1', 2, 'sent'),
          (11, '00000000-0000-0000-0000-00000000000b', 'digest-1', 1, 'skipped'),
          (12, '00000000-0000-0000-0000-00000000000a', 'daily-2026-11-21', 1, 'pending')`);
      await c.query(`
        INSERT INTO match (subscriber_id, paper_id, digest_id, score, why, delivery_id) VALUES
          ('00000000-0000-0000-0000-00000000000a', 1, 1, 1, 'w', 10),
          ('00000000-0000-0000-0000-00000000000a', 2, 1, 1, 'w', 12),
          ('00000000-0000-0000-0000-00000000000a', 3, 1, 1, 'w', 10),
          ('00000000-0000-0000-0000-00000000000a', 4, 1, 1, 'w', NULL),
          ('00000000-0000-0000-0000-00000000000b', 1, 1, 1, 'w', NULL),
          ('00000000-0000-0000-0000-00000000000c', 2, 1, 1, 'w', NULL)`);

      await c.query(sql(RANGES));

      const carried = await c.query<{ id: number; papers: number[] }>(`
        SELECT d.id, coalesce(array_agg(m.paper_id ORDER BY m.paper_id) FILTER (WHERE m.paper_id IS NOT NULL), '{}') AS papers
        FROM delivery d LEFT JOIN match m ON m.subscriber_id = d.subscriber_id AND m.seq > d.after_seq AND m.seq <= d.through_seq
        GROUP BY d.id ORDER BY d.id`);
      expect(carried.rows).toEqual([
        { id: 10, papers: [1, 3] },
        { id: 11, papers: [] },
        { id: 12, papers: [2] },
      ]);
      const undelivered = await c.query<{ email: string; papers: number[] }>(`
        SELECT s.email, array_agg(m.paper_id ORDER BY m.paper_id) AS papers
        FROM match m JOIN subscriber s ON s.id = m.subscriber_id
        WHERE m.seq > coalesce((SELECT max(d.through_seq) FROM delivery d WHERE d.subscriber_id = m.subscriber_id), 0)
        GROUP BY s.email ORDER BY s.email`);
      expect(undelivered.rows).toEqual([
        { email: 'ada@example.org', papers: [4] },
        { email: 'bob@example.org', papers: [1] },
        { email: 'cyd@example.org', papers: [2] },
      ]);
      // New matches continue above every existing seq.
      const next = await c.query(`
        INSERT INTO match (subscriber_id, paper_id, digest_id, score, why) VALUES ('00000000-0000-0000-0000-00000000000c', 3, 1, 1, 'w') RETURNING seq`);
      const [{ max }] = (await c.query(`SELECT max(seq) FROM match WHERE paper_id <> 3 OR subscriber_id <> '00000000-0000-0000-0000-00000000000c'`)).rows;
      expect(Number(next.rows[0].seq)).toBeGreaterThan(Number(max));
    });
  });
});
