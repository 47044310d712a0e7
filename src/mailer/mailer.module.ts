import { resolve } from 'node:path';
import { Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { MailTransport } from '../infra/mail/mail-transport.service';
import { SubscribersModule } from '../subscribers/subscribers.module';
import { ComposerService } from './composer.service';
import { DeliveryRepository } from './delivery.repository';
import { SenderService } from './sender.service';
import { TemplateRenderer } from './template-renderer';

@Module({
  imports: [SubscribersModule],
  providers: [
    DeliveryRepository,
    ComposerService,
    SenderService,
    MailTransport,
    // Every template is compiled once, here, at start-up; an invalid template stops the boot.
    { provide: TemplateRenderer, inject: [AppConfig], useFactory: (c: AppConfig) => TemplateRenderer.create(resolve(c.env.TEMPLATES_DIR)) },
  ],
  exports: [ComposerService, SenderService, DeliveryRepository, MailTransport],
})
export class MailerModule {}
