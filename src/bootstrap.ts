import 'reflect-metadata';
import { INestApplication, INestApplicationContext, LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule } from './app.module';
import { DomainErrorsFilter } from './common/domain-errors.filter';
import { AppConfig } from './config/app-config';
import { assertNoEviction } from './infra/queue/redis-policy';

const LEVELS: LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];

function logLevels(config: AppConfig): LogLevel[] {
  return LEVELS.slice(0, LEVELS.indexOf(config.env.LOG_LEVEL) + 1);
}

/** Max size of an uploaded page or JSON digest. */
export const BODY_LIMIT = '10mb';

/** The HTTP API (with the processors too when `workers`). */
export async function createHttpApp(config: AppConfig, opts: { workers: boolean }): Promise<INestApplication> {
  await assertNoEviction(config.env.REDIS_URL);
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config, opts), {
    logger: logLevels(config),
    bodyParser: false,
  });
  app.useBodyParser('json', { limit: BODY_LIMIT });
  app.useBodyParser('text', { limit: BODY_LIMIT, type: 'text/plain' });
  app.useBodyParser('urlencoded', { limit: '64kb', extended: false });
  app.useGlobalFilters(new DomainErrorsFilter());
  app.enableShutdownHooks();
  app.set('trust proxy', 'loopback');
  app.disable('x-powered-by');
  return app;
}

/** No HTTP: the worker process and the CLI. */
export async function createContext(config: AppConfig, opts: { workers: boolean; quiet?: boolean }): Promise<INestApplicationContext> {
  await assertNoEviction(config.env.REDIS_URL);
  const app = await NestFactory.createApplicationContext(AppModule.forRoot(config, opts), {
    logger: opts.quiet ? ['error', 'warn'] : logLevels(config),
  });
  app.enableShutdownHooks();
  return app;
}
