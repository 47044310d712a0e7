import { Module } from '@nestjs/common';
import { CollectionStatsRepository } from './collection-stats.repository';
import { MatchingRepository } from './matching.repository';
import { MatchingService } from './matching.service';

@Module({
  providers: [CollectionStatsRepository, MatchingRepository, MatchingService],
  exports: [CollectionStatsRepository, MatchingService],
})
export class MatchingModule {}
