import { BullModule } from '@nestjs/bullmq';
import { Global, Module } from '@nestjs/common';
import type { ConnectionOptions } from 'bullmq';
import { AppConfig } from '../../config/app-config';
import { JobProducer } from './job-producer.service';
import { defaultJobOptions, QUEUES } from './queues';
import { redisOptionsFromUrl } from './redis-options';
import { SendRateLimiter } from './send-rate-limiter';

@Global()
@Module({
  imports: [
    BullModule.forRootAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => ({
        connection: redisOptionsFromUrl(config.env.REDIS_URL) as ConnectionOptions,
        prefix: config.env.QUEUE_PREFIX,
      }),
    }),
    BullModule.registerQueueAsync(
      ...(Object.keys(QUEUES) as (keyof typeof QUEUES)[]).map((key) => ({
        name: QUEUES[key],
        inject: [AppConfig],
        useFactory: (config: AppConfig) => ({ defaultJobOptions: defaultJobOptions(config.env.SEND_ATTEMPTS, config.env.SEND_BACKOFF_MS)[key] }),
      })),
    ),
  ],
  providers: [JobProducer, SendRateLimiter],
  exports: [JobProducer, SendRateLimiter, BullModule],
})
export class QueueModule {}
