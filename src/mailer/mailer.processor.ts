import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Job, UnrecoverableError } from 'bullmq';
import { ComposeDigestJob, JOBS, QUEUES } from '../infra/queue/queues';
import { ComposerService } from './composer.service';
import { ReconcilerService } from './reconciler.service';

/** Thin adapter for the mailer queue: composing, the cadence tick and the reconciler. */
@Processor(QUEUES.mailer, { concurrency: 2 })
export class MailerProcessor extends WorkerHost {
  constructor(
    private readonly composer: ComposerService,
    private readonly reconciler: ReconcilerService,
  ) {
    super();
  }

  async process(job: Job) {
    switch (job.name) {
      case JOBS.composeDigest:
        return this.composer.composeForDigest((job.data as ComposeDigestJob).digestId);
      case JOBS.cadenceTick:
        return this.composer.composeDue(new Date(job.timestamp));
      case JOBS.reconcile:
        return this.reconciler.reconcile();
      default:
        throw new UnrecoverableError(`unknown job ${job.name}`);
    }
  }
}
