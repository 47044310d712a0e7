import { Module } from '@nestjs/common';
import { IngestionModule } from '../ingestion/ingestion.module';
import { MailerModule } from '../mailer/mailer.module';
import { SubscribersModule } from '../subscribers/subscribers.module';
import { AdminAuthGuard } from './auth/admin-auth.guard';
import { AdminAuthRepository } from './auth/admin-auth.repository';
import { AdminAuthService } from './auth/admin-auth.service';
import { AuthPagesController } from './auth/auth-pages.controller';
import { TokensApiController } from './auth/tokens-api.controller';
import { AdminSubscribersRepository } from './subscribers/admin-subscribers.repository';
import { AdminSubscribersService } from './subscribers/admin-subscribers.service';
import { SubscribersApiController } from './subscribers/subscribers-api.controller';
import { SubscribersPagesController } from './subscribers/subscribers-pages.controller';
import { AdminDigestsRepository } from './digests/admin-digests.repository';
import { AdminDigestsService } from './digests/admin-digests.service';
import { DigestsApiController } from './digests/digests-api.controller';
import { DigestsPagesController } from './digests/digests-pages.controller';
import { DashboardController } from './dashboard/dashboard.controller';
import { DashboardRepository } from './dashboard/dashboard.repository';
import { AdminImportsRepository } from './imports/admin-imports.repository';
import { AdminImportsService } from './imports/admin-imports.service';
import { ImportsController } from './imports/imports.controller';
import { QueuesBoard } from './queues-board';
import { AdminSendsRepository } from './sends/admin-sends.repository';
import { SourcesModule } from '../ingestion/sources/sources.module';
import { SourcePullsApiController } from './digests/source-pulls-api.controller';
import { AdminSendsService } from './sends/admin-sends.service';
import { SendsApiController } from './sends/sends-api.controller';
import { SendsPagesController } from './sends/sends-pages.controller';

/** The admin console (issue #6): pages under /admin, the API under /api/admin, all behind AdminAuthGuard. */
@Module({
  imports: [SubscribersModule, MailerModule, IngestionModule, SourcesModule],
  controllers: [AuthPagesController, TokensApiController, SubscribersPagesController, SubscribersApiController, SendsPagesController, SendsApiController, DigestsPagesController, DigestsApiController, SourcePullsApiController, DashboardController, ImportsController],
  providers: [AdminAuthRepository, AdminAuthService, AdminAuthGuard, AdminSubscribersRepository, AdminSubscribersService, AdminSendsRepository, AdminSendsService, AdminDigestsRepository, AdminDigestsService, DashboardRepository, AdminImportsRepository, AdminImportsService, QueuesBoard],
  exports: [AdminAuthService],
})
export class AdminModule {}
