import { resolve } from 'node:path';
import { Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { MailTransport } from '../infra/mail/mail-transport.service';
import { SubscribersModule } from '../subscribers/subscribers.module';
import { ComposerService } from './composer.service';
import { BouncesController } from './bounces.controller';
import { DeliveryPageController } from './delivery-page.controller';
import { DeliveryRepository } from './delivery.repository';
import { ReconcilerRepository } from './reconciler.repository';
import { ReconcilerService } from './reconciler.service';
import { SenderService } from './sender.service';
import { TemplateRenderer } from './template-renderer';

@Module({
  imports: [SubscribersModule],
  controllers: [DeliveryPageController, BouncesController],
  providers: [
    DeliveryRepository,
    ReconcilerRepository,
    ReconcilerService,
    ComposerService,
    SenderService,
    MailTransport,
    // Every template is compiled once, here, at start-up; an invalid template stops the boot.
    { provide: TemplateRenderer, inject: [AppConfig], useFactory: (c: AppConfig) => TemplateRenderer.create(resolve(c.env.TEMPLATES_DIR)) },
  ],
  exports: [ComposerService, SenderService, DeliveryRepository, MailTransport, ReconcilerService, TemplateRenderer],
})
export class MailerModule {}
