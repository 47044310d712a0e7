import { DynamicModule, Module } from '@nestjs/common';
import { MailerModule } from '../mailer/mailer.module';
import { AssetsController } from '../web/assets';
import { ConfirmationMailer } from './confirmation-mailer.service';
import { PreviewService } from './preview.service';
import { RateLimitGuard, RateLimitService } from './rate-limit';
import { SelfServicePagesController } from './self-service-pages.controller';
import { SelfServiceRepository } from './self-service.repository';
import { SelfServiceService } from './self-service.service';
import { SubscribersModule } from './subscribers.module';
import { SubscriptionsApiController } from './subscriptions-api.controller';
import { TransactionalProcessor } from './transactional.processor';
import { UnsubscribeController } from './unsubscribe.controller';

/**
 * Subscriber self-service: the public pages, the JSON API and the confirmation email. Separate
 * from SubscribersModule because it sends mail (MailerModule), which itself needs the tokens.
 */
@Module({})
export class SelfServiceModule {
  static forRoot(opts: { workers: boolean }): DynamicModule {
    return {
      module: SelfServiceModule,
      imports: [SubscribersModule, MailerModule],
      controllers: [SelfServicePagesController, UnsubscribeController, SubscriptionsApiController, AssetsController],
      providers: [
        SelfServiceRepository,
        SelfServiceService,
        ConfirmationMailer,
        PreviewService,
        RateLimitService,
        RateLimitGuard,
        ...(opts.workers ? [TransactionalProcessor] : []),
      ],
      exports: [SelfServiceService],
    };
  }
}
