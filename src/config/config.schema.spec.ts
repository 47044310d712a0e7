import { parseEnv } from './config.schema';

describe('parseEnv', () => {
  it('applies documented defaults', () => {
    const env = parseEnv({});
    expect(env.PORT).toBe(3000);
    expect(env.DATABASE_URL).toBe('postgresql://postgres@127.0.0.1:5432/paperboy');
    expect(env.REDIS_URL).toBe('redis://127.0.0.1:6379');
    expect(env.OUTBOX_DIR).toBe('var/outbox');
    expect(env.RUN_WORKERS).toBe(true);
    expect(env.SMTP_URL).toBeUndefined();
    expect(env.APP_SECRET.length).toBeGreaterThanOrEqual(32);
  });

  it('names the offending variable', () => {
    expect(() => parseEnv({ PORT: 'eighty' })).toThrow(/PORT/);
    expect(() => parseEnv({ REDIS_URL: 'http://x' })).toThrow(/REDIS_URL: must be a URL \(redis: or rediss:\)/);
    expect(() => parseEnv({ RUN_WORKERS: 'maybe' })).toThrow(/RUN_WORKERS/);
  });

  it('refuses production without a secret, https links and a real SMTP server', () => {
    let message = '';
    try {
      parseEnv({ NODE_ENV: 'production' });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/APP_SECRET: is required/);
    expect(message).toMatch(/PUBLIC_URL: must be https/);
    expect(message).toMatch(/SMTP_URL: is required/);
    expect(() =>
      parseEnv({ NODE_ENV: 'production', APP_SECRET: 'x'.repeat(40), PUBLIC_URL: 'https://papers.example.org', SMTP_URL: 'smtp://mail:25' }),
    ).not.toThrow();
  });
});
