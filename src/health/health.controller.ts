import { InjectQueue } from '@nestjs/bullmq';
import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService, HealthIndicatorService, PrismaHealthIndicator } from '@nestjs/terminus';
import { Queue } from 'bullmq';
import { PrismaService } from '../infra/prisma/prisma.service';
import { QUEUES } from '../infra/queue/queues';

/** Liveness of the two things the service cannot work without: PostgreSQL and Redis. */
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly prismaIndicator: PrismaHealthIndicator,
    private readonly indicators: HealthIndicatorService,
    private readonly prisma: PrismaService,
    @InjectQueue(QUEUES.matching) private readonly queue: Queue,
  ) {}

  @Get()
  @HealthCheck()
  check() {
    return this.health.check([
      () => this.prismaIndicator.pingCheck('postgres', this.prisma).withTimeout(2000),
      () =>
        this.indicators
          .check('redis')
          // A real round trip through the queue's own connection.
          .attempt(async () => ({ waitingMatchJobs: (await this.queue.getJobCounts('waiting')).waiting }))
          .withTimeout(2000),
    ]);
  }
}
