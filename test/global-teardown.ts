import { adminQuery } from './helpers/test-db';

export default async function globalTeardown(): Promise<void> {
  const name = process.env.PAPERBOY_TEST_TEMPLATE;
  if (name) await adminQuery(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
}
