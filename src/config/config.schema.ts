import { z } from 'zod';
import { sourcesEnv } from './sources.config';

export const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'must be true or false' })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const url = (protocols: string[]) =>
  z.string().refine(
    (v) => {
      try {
        return protocols.includes(new URL(v).protocol);
      } catch {
        return false;
      }
    },
    { message: `must be a URL (${protocols.join(' or ')})` },
  );

const DEV_SECRET = 'paperboy-development-secret-do-not-use-in-production';

/**
 * Every environment variable the service reads, with its default. The README's configuration
 * table mirrors this schema; `process.env` is read nowhere else.
 */
export const envSchema = z
  .object({
    NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
    DATABASE_URL: url(['postgresql:', 'postgres:']).default('postgresql://postgres@127.0.0.1:5432/paperboy'),
    REDIS_URL: url(['redis:', 'rediss:']).default('redis://127.0.0.1:6379'),
    QUEUE_PREFIX: z.string().regex(/^[a-zA-Z0-9:_-]{1,64}$/, 'letters, digits, ":", "_" or "-" only').default('paperboy'),
    PORT: z.coerce.number().int().min(0).max(65535).default(3000),
    HOST: z.string().min(1).default('0.0.0.0'),
    PUBLIC_URL: url(['http:', 'https:']).default('http://localhost:3000'),
    APP_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
    SMTP_URL: url(['smtp:', 'smtps:']).optional(),
    MAIL_FROM: z.string().min(3).default('Paperboy <digest@paperboy.localhost>'),
    OUTBOX_DIR: z.string().min(1).default('var/outbox'),
    TEMPLATES_DIR: z.string().min(1).default('templates'),
    RUN_WORKERS: bool.default(true),
    SEND_CONCURRENCY: z.coerce.number().int().min(1).max(500).default(10),
    SEND_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(8),
    SEND_BACKOFF_MS: z.coerce.number().int().min(10).max(3_600_000).default(5_000),
    SEND_RATE_PER_SEC: z.coerce.number().int().min(1).max(100_000).default(100),
    /** Delivery ids per `send-batch` job (one claim statement per group, batched status writes). */
    SEND_BATCH_SIZE: z.coerce.number().int().min(1).max(1000).default(100),
    SMTP_POOL_SIZE: z.coerce.number().int().min(1).max(100).default(5),
    SMTP_SLOWDOWN_MS: z.coerce.number().int().min(0).max(3_600_000).default(30_000),
    SOFT_BOUNCE_LIMIT: z.coerce.number().int().min(1).max(100).default(5),
    MAX_PAPERS_PER_EMAIL: z.coerce.number().int().min(1).max(200).default(10),
    UNKNOWN_AFTER_MS: z.coerce.number().int().min(1_000).max(86_400_000).default(10 * 60_000),
    RECONCILE_AFTER_MS: z.coerce.number().int().min(1_000).max(86_400_000).default(2 * 60_000),
    BOUNCE_WEBHOOK_SECRET: z.string().min(24, 'must be at least 24 characters').optional(),
    DKIM_DOMAIN: z.string().regex(/^[a-z0-9.-]+$/i, 'must be a domain name').optional(),
    DKIM_SELECTOR: z.string().regex(/^[a-z0-9._-]+$/i, 'must be a DKIM selector').optional(),
    DKIM_PRIVATE_KEY_FILE: z.string().min(1).optional(),
    LOG_FORMAT: z.enum(['json', 'pretty']).optional(),
    MATCH_TOPIC_BATCH: z.coerce.number().int().min(100).max(100_000).default(5000),
    /** Rank each topic's matches with pseudo-relevance feedback (docs/matching.md); the CLI's `match` reads it too. */
    MATCH_FEEDBACK: bool.default(false),
    /** Due subscribers composed per transaction (a fan-out to more is split into subscriber-id ranges). */
    COMPOSE_CHUNK_SIZE: z.coerce.number().int().min(1).max(1_000_000).default(50_000),
    /** Chunk transactions of one compose run at once (each on its own database connection). */
    COMPOSE_CONCURRENCY: z.coerce.number().int().min(1).max(8).default(2),
    LOG_LEVEL: z.enum(['error', 'warn', 'log', 'debug', 'verbose']).default('log'),
    // --- subscriber self-service (issue #4) ---
    /** Express "trust proxy": loopback, a hop count, true/false, or comma-separated addresses/subnets. */
    TRUST_PROXY: z.string().regex(/^[\w.:/, -]{1,500}$/, 'loopback, a hop count, true/false or addresses/subnets').default('loopback'),
    CONFIRM_TOKEN_TTL_HOURS: z.coerce.number().int().min(1).max(24 * 90).default(7 * 24),
    CONFIRM_EMAILS_PER_DAY: z.coerce.number().int().min(1).max(100).default(3),
    CONSENT_RECORD_IP: bool.default(false),
    RATE_LIMIT_SUBSCRIBE_PER_HOUR: z.coerce.number().int().min(1).max(1_000_000).default(20),
    RATE_LIMIT_PUBLIC_PER_MINUTE: z.coerce.number().int().min(1).max(1_000_000).default(60),
    RATE_LIMIT_PREVIEW_PER_MINUTE: z.coerce.number().int().min(1).max(1_000_000).default(120),
    // --- end self-service ---
    // --- admin console (issue #6) ---
    /** Lifetime of an admin browser session. */
    ADMIN_SESSION_TTL_HOURS: z.coerce.number().int().min(1).max(24 * 30).default(12),
    /** Failed admin logins allowed per address and per client IP every 15 minutes. */
    ADMIN_LOGIN_ATTEMPTS: z.coerce.number().int().min(1).max(1000).default(10),
    // --- end admin console ---
    ...sourcesEnv,
  })
  .superRefine((env, ctx) => {
    if (env.NODE_ENV === 'production') {
      if (!env.APP_SECRET) ctx.addIssue({ code: 'custom', path: ['APP_SECRET'], message: 'is required when NODE_ENV=production' });
      if (!env.PUBLIC_URL.startsWith('https://'))
        ctx.addIssue({ code: 'custom', path: ['PUBLIC_URL'], message: 'must be https when NODE_ENV=production (links in emails are https only)' });
      if (!env.SMTP_URL)
        ctx.addIssue({ code: 'custom', path: ['SMTP_URL'], message: 'is required when NODE_ENV=production (the embedded mail sink is for development only)' });
    }
  })
  .superRefine((env, ctx) => {
    const dkim = [env.DKIM_DOMAIN, env.DKIM_SELECTOR, env.DKIM_PRIVATE_KEY_FILE].filter(Boolean).length;
    if (dkim !== 0 && dkim !== 3)
      ctx.addIssue({ code: 'custom', path: ['DKIM_DOMAIN'], message: 'DKIM needs DKIM_DOMAIN, DKIM_SELECTOR and DKIM_PRIVATE_KEY_FILE together' });
  })
  .transform((env) => ({
    ...env,
    APP_SECRET: env.APP_SECRET ?? DEV_SECRET,
    // Structured JSON logs in production (one object per line), readable lines in development.
    LOG_FORMAT: env.LOG_FORMAT ?? (env.NODE_ENV === 'production' ? 'json' : 'pretty'),
  }));

export type Env = z.output<typeof envSchema>;

export class ConfigError extends Error {}

/** Parses the environment once; the message names every offending variable. */
export function parseEnv(source: Record<string, string | undefined>): Env {
  // Empty strings count as unset, as in most .env tooling.
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ''));
  const result = envSchema.safeParse(cleaned);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.join('.') || '(env)'}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  return result.data;
}
