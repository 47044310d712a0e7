import { Module } from '@nestjs/common';
import { IngestionModule } from '../ingestion/ingestion.module';
import { SubscribersModule } from '../subscribers/subscribers.module';
import { DemoService } from './demo.service';
import { PipelineRepository } from './pipeline.repository';

@Module({
  imports: [IngestionModule, SubscribersModule],
  providers: [DemoService, PipelineRepository],
  exports: [DemoService, PipelineRepository],
})
export class DemoModule {}
