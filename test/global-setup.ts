import { runPrismaCli } from '../src/infra/prisma/migrate';
import { adminQuery, databaseUrl, TEMPLATE_DB } from './helpers/test-db';

/** Builds the migrated template database that every suite clones (fast: CREATE DATABASE … TEMPLATE). */
export default async function globalSetup(): Promise<void> {
  await adminQuery(`DROP DATABASE IF EXISTS "${TEMPLATE_DB}" WITH (FORCE)`);
  await adminQuery(`CREATE DATABASE "${TEMPLATE_DB}"`);
  await runPrismaCli(['migrate', 'deploy'], databaseUrl(TEMPLATE_DB));
}
