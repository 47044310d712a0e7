import { runPrismaCli } from '../src/infra/prisma/migrate';
import { adminQuery, databaseUrl } from './helpers/test-db';

/** Builds the migrated template database that every suite clones (fast: CREATE DATABASE … TEMPLATE). */
export default async function globalSetup(): Promise<void> {
  const name = `paperboy_test_template_${process.pid}`;
  process.env.PAPERBOY_TEST_TEMPLATE = name; // inherited by the test workers
  await adminQuery(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await adminQuery(`CREATE DATABASE "${name}"`);
  await runPrismaCli(['migrate', 'deploy'], databaseUrl(name));
}
