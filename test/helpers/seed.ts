import { randomUUID } from 'node:crypto';
import { withClient } from './test-db';

export interface SeedSubscriber {
  email: string;
  papers?: number;
  frequency?: 'instant' | 'daily' | 'weekly';
  timezone?: string;
  sendHour?: number;
  sendWeekday?: number;
}

/**
 * Writes subscribers with undelivered matches straight into the database (a factory, so delivery
 * tests do not depend on the matcher). Returns the subscriber ids by address.
 */
export async function seedMatches(url: string, subscribers: SeedSubscriber[], digestDate = '2026-11-20'): Promise<Record<string, string>> {
  return withClient(url, async (c) => {
    const digest = await c.query(
      `INSERT INTO digest (source, digest_date, content_hash, paper_count, status) VALUES ('seed', $1, $2, 0, 'composed') RETURNING id`,
      [digestDate, randomUUID()],
    );
    const digestId = digest.rows[0].id;
    const ids: Record<string, string> = {};
    for (const s of subscribers) {
      const sub = await c.query(
        `INSERT INTO subscriber (id, email, status, frequency, timezone, send_hour, send_weekday, updated_at)
         VALUES ($1, $2, 'active', $3, $4, $5, $6, now()) RETURNING id`,
        [randomUUID(), s.email, s.frequency ?? 'instant', s.timezone ?? 'UTC', s.sendHour ?? 8, s.sendWeekday ?? 1],
      );
      ids[s.email] = sub.rows[0].id;
      for (let i = 0; i < (s.papers ?? 1); i++) {
        const title = `Seeded paper ${i + 1} for ${s.email} ${randomUUID().slice(0, 8)}`;
        const paper = await c.query(`INSERT INTO paper (title_key, title, abstract) VALUES ($1, $2, 'An abstract.') RETURNING id`, [
          title.toLowerCase(),
          title,
        ]);
        await c.query(`INSERT INTO match (subscriber_id, paper_id, digest_id, score, why, topics) VALUES ($1, $2, $3, $4, 'seeded', ARRAY['seeded topic'])`, [
          sub.rows[0].id,
          paper.rows[0].id,
          digestId,
          10 - i,
        ]);
      }
    }
    return ids;
  });
}

export async function deliveries(url: string): Promise<{ id: number; email: string; status: string; issue_key: string; attempts: number; paper_count: number }[]> {
  return withClient(url, async (c) =>
    (
      await c.query(
        `SELECT d.id, s.email, d.status::text AS status, d.issue_key, d.attempts, d.paper_count
         FROM delivery d JOIN subscriber s ON s.id = d.subscriber_id ORDER BY d.id`,
      )
    ).rows,
  );
}
