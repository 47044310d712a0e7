import { Module } from '@nestjs/common';
import { IngestionModule } from '../ingestion.module';
import { SourcePullRepository } from './source-pull.repository';
import { SourcesService } from './sources.service';

/** Feed sources (Hugging Face daily papers, arXiv). The processor and scheduler are in WorkersModule. */
@Module({
  imports: [IngestionModule],
  providers: [SourcesService, SourcePullRepository],
  exports: [SourcesService],
})
export class SourcesModule {}
