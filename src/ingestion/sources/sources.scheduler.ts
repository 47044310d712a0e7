import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { Queue } from 'bullmq';
import { AppConfig } from '../../config/app-config';
import { JOBS, PullSourceJob, QUEUES, sourcePullJobOptions, sourceSchedulerId } from '../../infra/queue/queues';
import { SourcesService } from './sources.service';

/**
 * At boot, one BullMQ job scheduler per enabled source (upserted by id, so however many worker
 * processes start there is one), and schedulers of sources no longer enabled are removed. Pulls
 * run one at a time across all workers: arXiv wants a single connection.
 */
@Injectable()
export class SourcesScheduler implements OnApplicationBootstrap {
  private readonly logger = new Logger(SourcesScheduler.name);

  constructor(
    @InjectQueue(QUEUES.sources) private readonly queue: Queue<PullSourceJob>,
    private readonly sources: SourcesService,
    private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.sync();
  }

  async sync(): Promise<string[]> {
    await this.queue.setGlobalConcurrency(1);
    const wanted = this.sources.enabled();
    const ids = new Set<string>();
    for (const { spec, pattern } of wanted) {
      const id = sourceSchedulerId(spec.name);
      ids.add(id);
      await this.queue.upsertJobScheduler(
        id,
        { pattern, tz: 'UTC' },
        { name: JOBS.pullSource, data: { source: spec.name, trigger: 'schedule' }, opts: sourcePullJobOptions(this.config.env.SOURCE_RETRY_DELAY_MS) },
      );
    }
    for (const s of await this.queue.getJobSchedulers()) {
      const id = s.id ?? s.key;
      if (id && id.startsWith(sourceSchedulerId('')) && !ids.has(id)) await this.queue.removeJobScheduler(id);
    }
    if (wanted.length) this.logger.log(`source schedules: ${wanted.map((w) => `${w.spec.name} "${w.pattern}"`).join(', ')}`);
    return [...ids];
  }
}
