import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

/** The server tests run against; override with TEST_DATABASE_URL (any database on it; only the host is used). */
export const TEST_SERVER_URL = process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
/** Set per run by global-setup, so concurrent test runs on one server do not share a template. */
export const templateDb = (): string => process.env.PAPERBOY_TEST_TEMPLATE ?? 'paperboy_test_template';

export function databaseUrl(name: string): string {
  const u = new URL(TEST_SERVER_URL);
  u.pathname = `/${name}`;
  return u.toString();
}

export async function adminQuery(sql: string): Promise<void> {
  const client = new Client({ connectionString: databaseUrl('postgres') });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

export interface TestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/** A fresh database cloned from the migrated template (made once per run in global-setup). */
export async function createTestDatabase(opts: { empty?: boolean } = {}): Promise<TestDatabase> {
  const name = `paperboy_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  // Cloning needs the template to be free of other sessions (a parallel clone counts): retry briefly.
  for (let attempt = 0; ; attempt++) {
    try {
      await adminQuery(opts.empty ? `CREATE DATABASE "${name}"` : `CREATE DATABASE "${name}" TEMPLATE "${templateDb()}"`);
      break;
    } catch (e) {
      if ((e as { code?: string }).code !== '55006' || attempt > 100) throw e;
      await new Promise((r) => setTimeout(r, 100 + Math.random() * 200));
    }
  }
  return {
    name,
    url: databaseUrl(name),
    drop: () => adminQuery(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`),
  };
}

export async function withClient<T>(url: string, fn: (c: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Row counts of every application table: "stores nothing" assertions compare two of these. */
export async function tableCounts(url: string): Promise<Record<string, number>> {
  return withClient(url, async (c) => {
    const tables = await c.query<{ tablename: string }>(
      `SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> '_prisma_migrations' ORDER BY 1`,
    );
    const out: Record<string, number> = {};
    for (const { tablename } of tables.rows) {
      out[tablename] = Number((await c.query(`SELECT count(*) AS n FROM "${tablename}"`)).rows[0].n);
    }
    return out;
  });
}
