import { z } from 'zod';

const bool = z
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
    MATCH_TOPIC_BATCH: z.coerce.number().int().min(100).max(100_000).default(5000),
    LOG_LEVEL: z.enum(['error', 'warn', 'log', 'debug', 'verbose']).default('log'),
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
  .transform((env) => ({ ...env, APP_SECRET: env.APP_SECRET ?? DEV_SECRET }));

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
