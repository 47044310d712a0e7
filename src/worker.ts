import { Logger } from '@nestjs/common';
import { createContext } from './bootstrap';
import { AppConfig } from './config/app-config';
import { ConfigError } from './config/config.schema';

/** A worker process: queue processors only. Run as many as you like against one Redis and PostgreSQL. */
async function main(): Promise<void> {
  const config = AppConfig.fromProcessEnv();
  await createContext(config, { workers: true });
  new Logger('Worker').log('worker started');
}

main().catch((err) => {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
});
