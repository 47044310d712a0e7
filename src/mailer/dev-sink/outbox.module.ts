import { Module } from '@nestjs/common';
import { MailerModule } from '../mailer.module';
import { OutboxController } from './outbox.controller';

@Module({ imports: [MailerModule], controllers: [OutboxController] })
export class OutboxModule {}
