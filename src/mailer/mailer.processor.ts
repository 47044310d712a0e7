import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Job, UnrecoverableError } from 'bullmq';
import { ComposeDigestJob, JOBS, QUEUES, SendJob } from '../infra/queue/queues';
import { ComposerService } from './composer.service';
import { PermanentSendError, SenderService } from './sender.service';

/** Thin adapter: compose and send jobs call one service method each. */
@Processor(QUEUES.mailer, { concurrency: 10 })
export class MailerProcessor extends WorkerHost {
  constructor(
    private readonly composer: ComposerService,
    private readonly sender: SenderService,
  ) {
    super();
  }

  async process(job: Job<ComposeDigestJob | SendJob>) {
    switch (job.name) {
      case JOBS.composeDigest:
        return this.composer.composeForDigest((job.data as ComposeDigestJob).digestId);
      case JOBS.send:
        try {
          const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
          return await this.sender.send((job.data as SendJob).deliveryId, { lastAttempt });
        } catch (e) {
          if (e instanceof PermanentSendError) throw new UnrecoverableError(e.message);
          throw e;
        }
      default:
        throw new UnrecoverableError(`unknown job ${job.name}`);
    }
  }
}
