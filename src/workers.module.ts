import { Module } from '@nestjs/common';
import { SourcesModule } from './ingestion/sources/sources.module';
import { SourcesProcessor } from './ingestion/sources/sources.processor';
import { SourcesScheduler } from './ingestion/sources/sources.scheduler';
import { MailerModule } from './mailer/mailer.module';
import { MailerProcessor } from './mailer/mailer.processor';
import { SchedulesService } from './mailer/schedules.service';
import { SendProcessor } from './mailer/send.processor';
import { MatchingModule } from './matching/matching.module';
import { MatchingProcessor } from './matching/matching.processor';

/** The queue processors. Imported by the worker process, and by the API process when RUN_WORKERS=true. */
@Module({
  imports: [MatchingModule, MailerModule, SourcesModule],
  providers: [MatchingProcessor, MailerProcessor, SendProcessor, SchedulesService, SourcesProcessor, SourcesScheduler],
})
export class WorkersModule {}
