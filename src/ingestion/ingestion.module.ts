import { Module } from '@nestjs/common';
import { MatchingModule } from '../matching/matching.module';
import { IngestionController } from './ingestion.controller';
import { IngestionRepository } from './ingestion.repository';
import { IngestionService } from './ingestion.service';

@Module({
  imports: [MatchingModule],
  controllers: [IngestionController],
  providers: [IngestionRepository, IngestionService],
  exports: [IngestionService],
})
export class IngestionModule {}
