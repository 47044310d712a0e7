import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { Queue } from 'bullmq';
import { JOBS, QUEUES, SCHEDULES } from '../infra/queue/queues';

/**
 * Registers the periodic jobs. BullMQ keeps one scheduler per id in Redis, so however many
 * worker processes upsert them, each tick runs once.
 */
@Injectable()
export class SchedulesService implements OnApplicationBootstrap {
  constructor(@InjectQueue(QUEUES.mailer) private readonly mailer: Queue) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.mailer.upsertJobScheduler(SCHEDULES.cadenceTick.id, { every: SCHEDULES.cadenceTick.everyMs }, { name: JOBS.cadenceTick, data: {} });
    await this.mailer.upsertJobScheduler(SCHEDULES.reconcile.id, { every: SCHEDULES.reconcile.everyMs }, { name: JOBS.reconcile, data: {} });
  }
}
