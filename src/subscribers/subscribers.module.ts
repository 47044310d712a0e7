import { Module } from '@nestjs/common';
import { SubscribersRepository } from './subscribers.repository';
import { SubscribersService } from './subscribers.service';
import { TokensService } from './tokens.service';
import { UnsubscribeController } from './unsubscribe.controller';

@Module({
  controllers: [UnsubscribeController],
  providers: [SubscribersRepository, SubscribersService, TokensService],
  exports: [SubscribersService, TokensService],
})
export class SubscribersModule {}
