import { Logger } from '@nestjs/common';
import { createHttpApp } from './bootstrap';
import { AppConfig } from './config/app-config';
import { ConfigError } from './config/config.schema';

/** The HTTP API process. Runs the queue processors too unless RUN_WORKERS=false. */
async function main(): Promise<void> {
  const config = AppConfig.fromProcessEnv();
  const app = await createHttpApp(config, { workers: config.env.RUN_WORKERS });
  await app.listen(config.env.PORT, config.env.HOST);
  new Logger('Main').log(
    `Paperboy listening on ${config.env.HOST}:${config.env.PORT} (public URL ${config.env.PUBLIC_URL}); workers ${config.env.RUN_WORKERS ? 'on' : 'off'}`,
  );
}

main().catch((err) => {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
});
