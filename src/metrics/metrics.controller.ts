import { Controller, Get, Header } from '@nestjs/common';
import { JobProducer } from '../infra/queue/job-producer.service';
import { MetricsService } from './metrics.service';

@Controller('metrics')
export class MetricsController {
  constructor(
    private readonly metrics: MetricsService,
    private readonly jobs: JobProducer,
  ) {}

  @Get()
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  async scrape(): Promise<string> {
    for (const [queue, n] of Object.entries(await this.jobs.pendingCounts())) this.metrics.queueDepth.set({ queue }, n);
    return this.metrics.registry.metrics();
  }
}
