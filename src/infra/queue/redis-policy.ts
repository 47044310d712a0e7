import IORedis from 'ioredis';
import { Logger } from '@nestjs/common';
import { redisOptionsFromUrl } from './redis-options';

/**
 * BullMQ loses jobs silently when Redis may evict keys, so we refuse to run against such a Redis.
 * Managed services that forbid CONFIG GET get a warning instead of a refusal.
 */
export async function assertNoEviction(redisUrl: string, logger = new Logger('Redis')): Promise<void> {
  const client = new IORedis({ ...redisOptionsFromUrl(redisUrl), maxRetriesPerRequest: 1, lazyConnect: true });
  try {
    await client.connect();
    let policy: string | undefined;
    try {
      const reply = (await client.config('GET', 'maxmemory-policy')) as string[];
      policy = reply[1];
    } catch (e) {
      logger.warn(`could not read maxmemory-policy (${(e as Error).message}); make sure it is "noeviction"`);
      return;
    }
    if (policy !== 'noeviction') {
      throw new Error(
        `Redis at ${new URL(redisUrl).host} has maxmemory-policy "${policy}"; queues need "noeviction" ` +
          `(set it with: redis-cli CONFIG SET maxmemory-policy noeviction, and in redis.conf)`,
      );
    }
  } finally {
    client.disconnect();
  }
}
