import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Client } from 'pg';

/** The project root (where package.json, prisma.config.ts and node_modules live), from src/ or dist/. */
export function projectRoot(from = __dirname): string {
  let dir = from;
  while (!existsSync(join(dir, 'package.json')) || !existsSync(join(dir, 'prisma', 'schema.prisma'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`cannot find the project root above ${from}`);
    dir = up;
  }
  return dir;
}

/** Creates the database named in the URL if it does not exist (connecting to the server's `postgres` database). */
export async function ensureDatabase(databaseUrl: string): Promise<boolean> {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.slice(1));
  if (!/^[A-Za-z0-9_-]{1,63}$/.test(name)) throw new Error(`unsupported database name "${name}" in DATABASE_URL`);
  const admin = new URL(databaseUrl);
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (rowCount) return false;
    await client.query(`CREATE DATABASE "${name}"`);
    return true;
  } catch (e) {
    // Another process may have created it in the meantime.
    if ((e as { code?: string }).code === '42P04') return false;
    throw e;
  } finally {
    await client.end();
  }
}

/** Runs Prisma's CLI from this project (its Wasm schema engine: no download). Resolves with stdout. */
export function runPrismaCli(args: string[], databaseUrl: string): Promise<string> {
  const root = projectRoot();
  const cli = join(root, 'node_modules', 'prisma', 'build', 'index.js');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], {
      cwd: root,
      env: { ...process.env, DATABASE_URL: databaseUrl, PRISMA_HIDE_UPDATE_MESSAGE: '1', CHECKPOINT_DISABLE: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`prisma ${args.join(' ')} failed (exit ${code}):\n${(err + out).trim()}`)),
    );
  });
}

/** Creates the database if needed and applies every committed migration. */
export async function migrateDatabase(databaseUrl: string): Promise<{ created: boolean; output: string }> {
  const created = await ensureDatabase(databaseUrl);
  const output = await runPrismaCli(['migrate', 'deploy'], databaseUrl);
  return { created, output };
}
