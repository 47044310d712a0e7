import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import { Queue } from 'bullmq';
import { AppConfig } from '../../config/app-config';
import { JOBS, jobIds, QUEUES, RowRef, SendBatchJob } from './queues';

/** The only place jobs are added. Callers pass ids; job ids are deterministic. */
@Injectable()
export class JobProducer {
  constructor(
    @InjectQueue(QUEUES.matching) private readonly matching: Queue,
    @InjectQueue(QUEUES.mailer) private readonly mailer: Queue,
    @InjectQueue(QUEUES.send) private readonly sends: Queue,
    @InjectQueue(QUEUES.transactional) private readonly transactional: Queue,
    private readonly config: AppConfig,
  ) {}

  async matchDigest(digest: RowRef): Promise<void> {
    await this.addOnce(this.matching, JOBS.matchDigest, { digestId: digest.id }, jobIds.matchDigest(digest));
  }

  async composeDigest(digest: RowRef): Promise<void> {
    await this.addOnce(this.mailer, JOBS.composeDigest, { digestId: digest.id }, jobIds.composeDigest(digest));
  }

  /** One job per subscribe request, whatever the address's state (the worker decides). */
  async subscriptionRequest(requestId: string): Promise<void> {
    await this.transactional.add(JOBS.subscriptionRequest, { requestId }, { jobId: jobIds.subscriptionRequest(requestId) });
  }

  /**
   * Enqueues sends as `send-batch` jobs of SEND_BATCH_SIZE delivery ids (ids only, ascending),
   * with deterministic job ids, 100 jobs per addBulk round trip. Callers may pass a compose in
   * chunks (each call batches its own rows).
   */
  async sendDeliveries(deliveries: RowRef[]): Promise<void> {
    const size = this.config.env.SEND_BATCH_SIZE;
    const rows = [...deliveries].sort((a, b) => a.id - b.id);
    const jobs: { name: string; data: SendBatchJob; opts: { jobId: string } }[] = [];
    for (let i = 0; i < rows.length; i += size) {
      const batch = rows.slice(i, i + size);
      jobs.push({ name: JOBS.sendBatch, data: { deliveryIds: batch.map((d) => d.id) }, opts: { jobId: jobIds.sendBatch(batch[0], batch[batch.length - 1]) } });
    }
    for (let i = 0; i < jobs.length; i += 100) await this.sends.addBulk(jobs.slice(i, i + 100));
  }

  /**
   * One delivery of a batch failed temporarily: a single `send` job for it, after `delayMs`, that
   * carries on the delivery's attempt count: `attemptsLeft` more tries, backing off from
   * `backoffMs` (doubling, ±50% jitter), so the whole sequence is SEND_BACKOFF_MS × 1, 2, 4, …
   */
  async retrySend(d: RowRef, delayMs: number, attemptsLeft: number, backoffMs: number): Promise<void> {
    await this.addOnce(this.sends, JOBS.send, { deliveryId: d.id }, jobIds.send(d), {
      delay: Math.max(0, Math.round(delayMs)),
      attempts: Math.max(1, attemptsLeft),
      backoff: { type: 'exponential', delay: Math.max(1, Math.round(backoffMs)), jitter: 0.5 },
    });
  }

  /** Re-queues sends the reconciler (or an admin) found without a live job; existing jobs are kept. */
  async requeueSends(deliveries: RowRef[]): Promise<void> {
    for (const d of deliveries) await this.addOnce(this.sends, JOBS.send, { deliveryId: d.id }, jobIds.send(d));
  }

  /**
   * Adds a job unless one with this id is waiting or running. A job that failed for good is
   * removed first, so asking again (e.g. re-ingesting a digest whose matching failed) retries it.
   */
  private async addOnce(queue: Queue, name: string, data: object, jobId: string, opts: object = {}): Promise<void> {
    const existing = await queue.getJob(jobId);
    if (existing && ((await existing.isFailed()) || (await existing.isCompleted()))) await existing.remove();
    await queue.add(name, data, { ...opts, jobId });
  }

  /** Jobs not yet finished, per queue (for the demo's wait and for health output). */
  async pendingCounts(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const [name, q] of [
      [QUEUES.matching, this.matching],
      [QUEUES.mailer, this.mailer],
      [QUEUES.send, this.sends],
    ] as const) {
      const c = await q.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'waiting-children');
      out[name] = Object.values(c).reduce((a, b) => a + b, 0);
    }
    return out;
  }
}
