import { Processor, WorkerHost } from '@nestjs/bullmq';
import { OnApplicationBootstrap } from '@nestjs/common';
import { Job, UnrecoverableError, Worker } from 'bullmq';
import { AppConfig } from '../config/app-config';
import { QUEUES, SendJob } from '../infra/queue/queues';
import { PermanentSendError, SenderService, SlowDownError } from './sender.service';

/**
 * Thin adapter for the send queue. Concurrency and the global rate limit come from config, so
 * the worker starts only once they are applied. The limiter lives in Redis: SEND_RATE_PER_SEC is
 * the total across every worker process.
 */
@Processor(QUEUES.send, { autorun: false })
export class SendProcessor extends WorkerHost implements OnApplicationBootstrap {
  constructor(
    private readonly sender: SenderService,
    private readonly config: AppConfig,
  ) {
    super();
  }

  onApplicationBootstrap(): void {
    const worker = this.worker;
    worker.concurrency = this.config.env.SEND_CONCURRENCY;
    (worker.opts as { limiter?: { max: number; duration: number } }).limiter = { max: this.config.env.SEND_RATE_PER_SEC, duration: 1000 };
    void worker.run();
  }

  async process(job: Job<SendJob>) {
    try {
      const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      return await this.sender.send(job.data.deliveryId, { lastAttempt });
    } catch (e) {
      if (e instanceof PermanentSendError) throw new UnrecoverableError(e.message);
      if (e instanceof SlowDownError) {
        // Pause this queue for every worker, then put the job back without spending an attempt.
        await this.worker.rateLimit(this.config.env.SMTP_SLOWDOWN_MS);
        throw Worker.RateLimitError();
      }
      throw e;
    }
  }
}
