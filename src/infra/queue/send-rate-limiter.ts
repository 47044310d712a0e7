import { setTimeout as sleep } from 'node:timers/promises';
import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import IORedis from 'ioredis';
import { AppConfig } from '../../config/app-config';
import { redisOptionsFromUrl } from './redis-options';

/**
 * Reserves `n` send slots on the shared schedule (GCRA). Keys: the theoretical arrival time (ms,
 * Redis clock) of the next free slot, and the slow-down pause. Returns {paused, ms}: while paused,
 * ms is the time left; otherwise ms is the wait before the first reserved slot (slot i is i
 * intervals later).
 */
const RESERVE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local pause = redis.call('PTTL', KEYS[2])
if pause > 0 then return {1, tostring(pause)} end
local n = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
-- A worker that fell a little behind the schedule (less than ARGV[3] ms) may catch up; after a
-- longer gap (idle, paused) the schedule restarts now, so slots are never saved up for a burst.
if tat < now - tonumber(ARGV[3]) then tat = now end
local nextTat = tat + n * interval
redis.call('SET', KEYS[1], string.format('%.3f', nextTat), 'PX', math.ceil(math.max(nextTat - now, 0)) + 10000)
return {0, string.format('%.3f', math.max(tat - now, 0))}
`;

/** Gives back `n` unused slots (claims that found nothing to send), never moving the schedule into the past. */
const REFUND = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
local back = tat - tonumber(ARGV[1]) * tonumber(ARGV[2])
if back < now then back = now end
if tat > now then redis.call('SET', KEYS[1], string.format('%.3f', back), 'PX', math.ceil(back - now) + 10000) end
return 1
`;

type LimiterRedis = IORedis & {
  sendRateReserve(tat: string, pause: string, n: number, intervalMs: number, catchUpMs: number): Promise<[number, string]>;
  sendRateRefund(tat: string, n: number, intervalMs: number): Promise<number>;
};

export interface Reservation {
  /** Wait this long before the first of the reserved sends. */
  waitMs: number;
  /** Then one send every intervalMs. */
  intervalMs: number;
}

/** How far behind the schedule a busy worker may be and still catch up (at most this much of a burst). */
const CATCH_UP_MS = 500;

/**
 * The global send rate: SEND_RATE_PER_SEC emails per second across every worker process, kept in
 * Redis as a virtual schedule (GCRA: one "next free slot" time, advanced by 1/rate per email).
 * Unlike fixed one-second windows (BullMQ's limiter, rate-limiter-flexible), it never lets a
 * window's worth of emails out in one burst, so the rate holds over runs of a few seconds too.
 * A 421 / rate-limit reply pauses every worker for SMTP_SLOWDOWN_MS (`slowDown`).
 *
 * Workers reserve slots before they claim deliveries, so waiting for the rate never leaves
 * deliveries claimed-but-unsent (the "unknown" window stays the SMTP exchange itself).
 */
@Injectable()
export class SendRateLimiter implements OnApplicationShutdown {
  private redis?: LimiterRedis;
  private readonly tatKey: string;
  private readonly pauseKey: string;
  readonly intervalMs: number;

  constructor(private readonly config: AppConfig) {
    this.tatKey = `${config.env.QUEUE_PREFIX}:send-rate:next`;
    this.pauseKey = `${config.env.QUEUE_PREFIX}:send-rate:pause`;
    this.intervalMs = 1000 / config.env.SEND_RATE_PER_SEC;
  }

  private client(): LimiterRedis {
    if (!this.redis) {
      const redis = new IORedis({ ...redisOptionsFromUrl(this.config.env.REDIS_URL), maxRetriesPerRequest: null }) as LimiterRedis;
      redis.defineCommand('sendRateReserve', { numberOfKeys: 2, lua: RESERVE });
      redis.defineCommand('sendRateRefund', { numberOfKeys: 1, lua: REFUND });
      redis.on('error', () => undefined); // ioredis reconnects by itself; commands wait (maxRetriesPerRequest: null)
      this.redis = redis;
    }
    return this.redis;
  }

  /**
   * Waits out a slow-down pause if one is set, then reserves `n` consecutive slots. Null (nothing
   * reserved) when `shouldStop` turns true while paused.
   */
  async reserve(n: number, shouldStop: () => boolean = () => false): Promise<Reservation | null> {
    for (;;) {
      const [paused, ms] = await this.client().sendRateReserve(this.tatKey, this.pauseKey, n, this.intervalMs, CATCH_UP_MS);
      if (!paused) return { waitMs: Number(ms), intervalMs: this.intervalMs };
      if (shouldStop()) return null;
      await sleep(Math.min(Number(ms), 1000));
    }
  }

  async refund(n: number): Promise<void> {
    if (n > 0) await this.client().sendRateRefund(this.tatKey, n, this.intervalMs);
  }

  /** The SMTP server asked us to slow down: every worker pauses for `ms` (a longer pause already set is kept). */
  async slowDown(ms: number): Promise<void> {
    if (ms <= 0) return;
    const left = await this.client().pttl(this.pauseKey);
    if (left < ms) await this.client().set(this.pauseKey, '1', 'PX', ms);
  }

  async onApplicationShutdown(): Promise<void> {
    this.redis?.disconnect();
  }
}
