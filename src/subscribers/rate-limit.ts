import { ArgumentsHost, CanActivate, Catch, ExceptionFilter, ExecutionContext, HttpException, HttpStatus, Injectable, OnApplicationShutdown, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import IORedis from 'ioredis';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { AppConfig } from '../config/app-config';
import { redisOptionsFromUrl } from '../infra/queue/redis-options';
import { PAGE_CSP } from '../web/html';
import { tooManyPage } from '../web/pages';

/** subscribe: POSTs that can send an email; preview: the live preview; public: everything else public. */
export type RateBucket = 'subscribe' | 'preview' | 'public';

const BUCKET = 'paperboy:rate-bucket';
export const RateLimit = (bucket: RateBucket) => SetMetadata(BUCKET, bucket);

/**
 * Per-client-IP limits kept in Redis, so they hold across every API process. The client IP is
 * Express's `req.ip`, which honours X-Forwarded-For only from proxies TRUST_PROXY trusts.
 */
@Injectable()
export class RateLimitService implements OnApplicationShutdown {
  private readonly redis: IORedis;
  private readonly limiters: Record<RateBucket, RateLimiterRedis>;

  constructor(config: AppConfig) {
    const env = config.env;
    // Fail fast rather than queue commands: a request should not hang on a Redis outage.
    this.redis = new IORedis({ ...redisOptionsFromUrl(env.REDIS_URL), maxRetriesPerRequest: 1, enableOfflineQueue: true });
    const make = (name: RateBucket, points: number, duration: number) =>
      new RateLimiterRedis({ storeClient: this.redis, keyPrefix: `${env.QUEUE_PREFIX}:rate:${name}`, points, duration });
    this.limiters = {
      subscribe: make('subscribe', env.RATE_LIMIT_SUBSCRIBE_PER_HOUR, 3600),
      preview: make('preview', env.RATE_LIMIT_PREVIEW_PER_MINUTE, 60),
      public: make('public', env.RATE_LIMIT_PUBLIC_PER_MINUTE, 60),
    };
  }

  /** Seconds to wait when over the limit, else null. */
  async consume(bucket: RateBucket, key: string): Promise<number | null> {
    try {
      await this.limiters[bucket].consume(key);
      return null;
    } catch (e) {
      if (e instanceof RateLimiterRes) return Math.max(1, Math.ceil(e.msBeforeNext / 1000));
      throw e; // Redis is down: fail the request (5xx) rather than run unlimited
    }
  }

  async onApplicationShutdown(): Promise<void> {
    this.redis.disconnect();
  }
}

@Injectable()
export class RateLimitGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly limits: RateLimitService,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const bucket = this.reflector.getAllAndOverride<RateBucket | undefined>(BUCKET, [ctx.getHandler(), ctx.getClass()]);
    if (!bucket) return true;
    const req = ctx.switchToHttp().getRequest<Request>();
    const retryAfter = await this.limits.consume(bucket, req.ip ?? req.socket.remoteAddress ?? 'unknown');
    if (retryAfter === null) return true;
    ctx.switchToHttp().getResponse<Response>().setHeader('Retry-After', String(retryAfter));
    throw new HttpException(
      { statusCode: 429, error: 'Too Many Requests', message: `Too many requests from your network; try again in ${retryAfter} seconds.` },
      HttpStatus.TOO_MANY_REQUESTS,
    );
  }
}

/** Express "trust proxy" from TRUST_PROXY: true/false, a hop count, or names/addresses/subnets. */
export function trustProxySetting(value: string): boolean | number | string {
  if (value === 'true') return true;
  if (value === 'false') return false;
  if (/^\d+$/.test(value)) return Number(value);
  return value;
}

/** On the HTML pages, a 429 is a page too (the JSON API keeps the JSON answer). */
@Catch(HttpException)
export class TooManyRequestsPageFilter implements ExceptionFilter {
  catch(err: HttpException, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    if (err.getStatus() !== HttpStatus.TOO_MANY_REQUESTS) {
      res.status(err.getStatus()).json(err.getResponse());
      return;
    }
    const seconds = Number(res.getHeader('Retry-After')) || 60;
    res.status(429).set({ 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store', 'Content-Security-Policy': PAGE_CSP }).send(tooManyPage(seconds));
  }
}
