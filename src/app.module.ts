import { DynamicModule, Module } from '@nestjs/common';
import { AdminModule } from './admin/admin.module';
import { AppConfig } from './config/app-config';
import { ConfigModule } from './config/config.module';
import { DemoModule } from './demo/demo.module';
import { HealthModule } from './health/health.module';
import { PrismaModule } from './infra/prisma/prisma.module';
import { QueueModule } from './infra/queue/queue.module';
import { IngestionModule } from './ingestion/ingestion.module';
import { SourcesModule } from './ingestion/sources/sources.module';
import { MailerModule } from './mailer/mailer.module';
import { OutboxModule } from './mailer/dev-sink/outbox.module';
import { MatchingModule } from './matching/matching.module';
import { MetricsModule } from './metrics/metrics.module';
import { SelfServiceModule } from './subscribers/self-service.module';
import { SubscribersModule } from './subscribers/subscribers.module';
import { WorkersModule } from './workers.module';

export interface AppOptions {
  /** Run the queue processors in this process. */
  workers: boolean;
}

@Module({})
export class AppModule {
  static forRoot(config: AppConfig, opts: AppOptions): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        PrismaModule,
        MetricsModule,
        QueueModule,
        IngestionModule,
        SourcesModule,
        MatchingModule,
        SubscribersModule,
        SelfServiceModule.forRoot(opts),
        MailerModule,
        HealthModule,
        DemoModule,
        AdminModule,
        ...(config.isProduction ? [] : [OutboxModule]),
        ...(opts.workers ? [WorkersModule] : []),
      ],
    };
  }
}
