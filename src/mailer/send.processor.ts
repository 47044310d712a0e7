import { Processor, WorkerHost } from '@nestjs/bullmq';
import { BeforeApplicationShutdown, OnApplicationBootstrap } from '@nestjs/common';
import { DelayedError, Job, UnrecoverableError, WaitingError } from 'bullmq';
import { AppConfig } from '../config/app-config';
import { JOBS, QUEUES, SendBatchJob, SendJob } from '../infra/queue/queues';
import { BatchResult, PermanentSendError, SenderService, SendOutcome, SlowDownError } from './sender.service';

/**
 * Thin adapter for the send queue: `send-batch` jobs (from composing) and single `send` jobs
 * (retries, the reconciler, admin re-sends). The global rate limit is not BullMQ's (that counts
 * jobs): SenderService takes one slot per email from SendRateLimiter, shared by every process.
 *
 * A process works on at most two batches at a time (one being sent, the next being claimed), so
 * batches spread over every worker process instead of queueing up inside the first one; the
 * sends themselves run SEND_CONCURRENCY at a time.
 */
// A batch held by a worker that died is found again by the others within ~10–20 s (a lock of
// 10 s, checked every 5 s) rather than BullMQ's default 30–60 s; re-running it is harmless (the
// claim decides), so a batch may stall a few times before BullMQ gives up on it (the reconciler
// re-queues whatever it still held).
@Processor(QUEUES.send, { autorun: false, lockDuration: 10_000, stalledInterval: 5_000, maxStalledCount: 3 })
export class SendProcessor extends WorkerHost implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private stopping = false;

  constructor(
    private readonly sender: SenderService,
    private readonly config: AppConfig,
  ) {
    super();
  }

  onApplicationBootstrap(): void {
    const worker = this.worker;
    worker.concurrency = 2;
    void worker.run();
  }

  /** On SIGTERM: batches stop claiming, finish what is in flight, and go back to the queue with the rest. */
  beforeApplicationShutdown(): void {
    this.stopping = true;
  }

  async process(job: Job, token?: string): Promise<SendOutcome | BatchResult> {
    if (job.name === JOBS.sendBatch) return this.processBatch(job as Job<SendBatchJob>, token);
    return this.processOne(job as Job<SendJob>, token);
  }

  private async processBatch(job: Job<SendBatchJob>, token?: string): Promise<BatchResult> {
    const result = await this.sender.sendBatch(job.data.deliveryIds, () => this.stopping || this.worker.closing !== undefined);
    if (result.remaining.length > 0) {
      // Shutting down: the rest of the batch (untouched, still pending) goes back to the queue for
      // another worker, without spending an attempt.
      await job.updateData({ deliveryIds: result.remaining });
      await job.moveToWait(token);
      throw new WaitingError();
    }
    return result;
  }

  private async processOne(job: Job<SendJob>, token?: string): Promise<SendOutcome> {
    try {
      const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      return await this.sender.send(job.data.deliveryId, { lastAttempt });
    } catch (e) {
      if (e instanceof PermanentSendError) throw new UnrecoverableError(e.message);
      if (e instanceof SlowDownError) {
        // Every worker is paused (SendRateLimiter); this job waits too, without spending an attempt.
        await job.moveToDelayed(Date.now() + this.config.env.SMTP_SLOWDOWN_MS, token);
        throw new DelayedError();
      }
      throw e;
    }
  }
}
