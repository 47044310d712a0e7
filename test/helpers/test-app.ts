import { randomBytes } from 'node:crypto';
import { INestApplication } from '@nestjs/common';
import IORedis from 'ioredis';
import { createHttpApp } from '../../src/bootstrap';
import { AppConfig } from '../../src/config/app-config';

export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface TestApp {
  app: INestApplication;
  url: string;
  config: AppConfig;
  close(): Promise<void>;
}

/** The real HTTP app with workers, on an ephemeral port, with its own queue prefix in Redis. */
export async function startTestApp(env: Record<string, string>, opts: { workers?: boolean } = {}): Promise<TestApp> {
  // A test that passes its own QUEUE_PREFIX (several apps on one queue) cleans it up itself.
  const ownPrefix = !env.QUEUE_PREFIX;
  const prefix = env.QUEUE_PREFIX ?? `pbtest-${randomBytes(4).toString('hex')}`;
  const config = AppConfig.fromProcessEnv({
    NODE_ENV: 'test',
    REDIS_URL: TEST_REDIS_URL,
    QUEUE_PREFIX: prefix,
    PUBLIC_URL: 'https://papers.example.org',
    APP_SECRET: 'test-secret-'.padEnd(40, 'x'),
    LOG_LEVEL: 'error',
    SEND_ATTEMPTS: '3',
    ...env,
  });
  const app = await createHttpApp(config, { workers: opts.workers ?? true });
  await app.listen(0, '127.0.0.1');
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  return {
    app,
    url,
    config,
    close: async () => {
      await app.close();
      if (ownPrefix) await deleteKeys(prefix);
    },
  };
}

/** Removes a test's (or a benchmark's) queue keys from Redis. */
export async function deleteKeys(prefix: string, redisUrl = TEST_REDIS_URL): Promise<void> {
  const redis = new IORedis(redisUrl);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
