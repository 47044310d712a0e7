import { Module } from '@nestjs/common';
import { MailerModule } from './mailer/mailer.module';
import { MailerProcessor } from './mailer/mailer.processor';
import { MatchingModule } from './matching/matching.module';
import { MatchingProcessor } from './matching/matching.processor';

/** The queue processors. Imported by the worker process, and by the API process when RUN_WORKERS=true. */
@Module({
  imports: [MatchingModule, MailerModule],
  providers: [MatchingProcessor, MailerProcessor],
})
export class WorkersModule {}
