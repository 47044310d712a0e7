import 'reflect-metadata';
import { ConsoleLogger, INestApplication, INestApplicationContext, LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule } from './app.module';
import { DomainErrorsFilter } from './common/domain-errors.filter';
import { AppConfig } from './config/app-config';
import { assertNoEviction } from './infra/queue/redis-policy';
import { trustProxySetting } from './subscribers/rate-limit';
import { PUBLIC_FORM_PATHS, publicBodyParsers } from './web/body-limits';
import { setupOpenApi } from './web/openapi';

const LEVELS: LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];

function logLevels(config: AppConfig): LogLevel[] {
  return LEVELS.slice(0, LEVELS.indexOf(config.env.LOG_LEVEL) + 1);
}

/**
 * One JSON object per line in production (for log shippers), readable lines in development.
 * Log lines name delivery and digest ids, never email addresses.
 */
function logger(config: AppConfig, levels: LogLevel[]): ConsoleLogger {
  return new ConsoleLogger({ json: config.env.LOG_FORMAT === 'json', logLevels: levels });
}

/** Max size of an uploaded page or JSON digest. */
export const BODY_LIMIT = '10mb';

/** The HTTP API (with the processors too when `workers`). */
export async function createHttpApp(config: AppConfig, opts: { workers: boolean }): Promise<INestApplication> {
  await assertNoEviction(config.env.REDIS_URL);
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config, opts), {
    logger: logger(config, logLevels(config)),
    bodyParser: false,
  });
  // Public forms and the subscriptions API get small limits (clear 413s); parsed first, so the
  // large digest-upload parsers below skip these requests.
  app.use(PUBLIC_FORM_PATHS, ...publicBodyParsers());
  app.useBodyParser('json', { limit: BODY_LIMIT });
  app.useBodyParser('text', { limit: BODY_LIMIT, type: 'text/plain' });
  app.useBodyParser('urlencoded', { limit: '64kb', extended: false });
  app.useGlobalFilters(new DomainErrorsFilter());
  app.enableShutdownHooks();
  app.set('trust proxy', trustProxySetting(config.env.TRUST_PROXY));
  setupOpenApi(app);
  app.disable('x-powered-by');
  return app;
}

/** No HTTP: the worker process and the CLI. */
export async function createContext(config: AppConfig, opts: { workers: boolean; quiet?: boolean }): Promise<INestApplicationContext> {
  await assertNoEviction(config.env.REDIS_URL);
  const app = await NestFactory.createApplicationContext(AppModule.forRoot(config, opts), {
    logger: logger(config, opts.quiet ? ['fatal', 'error', 'warn'] : logLevels(config)),
  });
  // A worker that drained cleanly on SIGTERM exits 0 (Nest's default re-raises the signal: exit 143).
  app.enableShutdownHooks(undefined, { useProcessExit: opts.workers });
  return app;
}
