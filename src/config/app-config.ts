import { Env, parseEnv } from './config.schema';

/** Typed, validated configuration. Built once per process from the environment. */
export class AppConfig {
  constructor(readonly env: Env) {}

  static fromProcessEnv(overrides: Record<string, string | undefined> = {}): AppConfig {
    return new AppConfig(parseEnv({ ...process.env, ...overrides }));
  }

  get isProduction(): boolean {
    return this.env.NODE_ENV === 'production';
  }

  /** Absolute URL under PUBLIC_URL (every link in an email goes through here). */
  publicLink(path: string): string {
    return new URL(path, this.env.PUBLIC_URL.endsWith('/') ? this.env.PUBLIC_URL : this.env.PUBLIC_URL + '/').toString();
  }
}
