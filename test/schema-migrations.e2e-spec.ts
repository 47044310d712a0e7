import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runPrismaCli } from '../src/infra/prisma/migrate';
import { createTestDatabase, TestDatabase, withClient } from './helpers/test-db';

/**
 * schema.prisma and prisma/migrations must describe the same database. We build one database
 * from the committed migrations (the template every test uses) and one from the SQL Prisma
 * derives from schema.prisma alone, then compare their catalogs.
 */
async function catalog(url: string): Promise<Record<string, string[]>> {
  return withClient(url, async (c) => {
    const q = async (sql: string) => (await c.query(sql)).rows.map((r) => Object.values(r).join(' | ')).sort();
    return {
      columns: await q(`
        SELECT table_name, column_name, data_type, udt_name, is_nullable, coalesce(column_default, '')
        FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> '_prisma_migrations'`),
      indexes: await q(`SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename <> '_prisma_migrations'`),
      constraints: await q(`
        SELECT cl.relname, co.conname, pg_get_constraintdef(co.oid)
        FROM pg_constraint co JOIN pg_class cl ON cl.oid = co.conrelid JOIN pg_namespace n ON n.oid = cl.relnamespace
        WHERE n.nspname = 'public' AND cl.relname <> '_prisma_migrations'`),
      enums: await q(`
        SELECT t.typname, string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder)
        FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid GROUP BY t.typname`),
    };
  });
}

describe('schema.prisma and the committed migrations', () => {
  let fromMigrations: TestDatabase;
  let fromSchema: TestDatabase;

  beforeAll(async () => {
    fromMigrations = await createTestDatabase();
    fromSchema = await createTestDatabase({ empty: true });
  });
  afterAll(async () => {
    await fromMigrations?.drop();
    await fromSchema?.drop();
  });

  it('describe the same tables, columns, indexes, constraints and enums', async () => {
    const sql = await runPrismaCli(['migrate', 'diff', '--from-empty', '--to-schema-datamodel', 'prisma/schema.prisma', '--script'], fromSchema.url);
    expect(sql).toContain('CREATE TABLE "subscriber"');
    await withClient(fromSchema.url, (c) => c.query(sql));
    const a = await catalog(fromMigrations.url);
    const b = await catalog(fromSchema.url);
    expect(a.columns.length).toBeGreaterThan(40);
    expect(a).toEqual(b);
  });

  it('has a migration lock for PostgreSQL', () => {
    expect(readFileSync(join(__dirname, '../prisma/migrations/migration_lock.toml'), 'utf8')).toContain('provider = "postgresql"');
  });
});
