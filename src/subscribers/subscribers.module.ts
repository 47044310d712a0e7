import { Module } from '@nestjs/common';
import { SubscribersRepository } from './subscribers.repository';
import { SubscribersService } from './subscribers.service';
import { TokensService } from './tokens.service';

@Module({
  providers: [SubscribersRepository, SubscribersService, TokensService],
  exports: [SubscribersService, TokensService],
})
export class SubscribersModule {}
