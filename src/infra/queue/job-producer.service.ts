import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import { Queue } from 'bullmq';
import { JOBS, jobIds, QUEUES, RowRef } from './queues';

/** The only place jobs are added. Callers pass ids; job ids are deterministic. */
@Injectable()
export class JobProducer {
  constructor(
    @InjectQueue(QUEUES.matching) private readonly matching: Queue,
    @InjectQueue(QUEUES.mailer) private readonly mailer: Queue,
    @InjectQueue(QUEUES.send) private readonly sends: Queue,
    @InjectQueue(QUEUES.transactional) private readonly transactional: Queue,
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

  /** Enqueues sends in batches (one round trip per chunk). */
  async sendDeliveries(deliveries: RowRef[]): Promise<void> {
    const chunk = 1000;
    for (let i = 0; i < deliveries.length; i += chunk) {
      await this.sends.addBulk(
        deliveries.slice(i, i + chunk).map((d) => ({ name: JOBS.send, data: { deliveryId: d.id }, opts: { jobId: jobIds.send(d) } })),
      );
    }
  }

  /** Re-queues sends the reconciler (or an admin) found without a live job; existing jobs are kept. */
  async requeueSends(deliveries: RowRef[]): Promise<void> {
    for (const d of deliveries) await this.addOnce(this.sends, JOBS.send, { deliveryId: d.id }, jobIds.send(d));
  }

  /**
   * Adds a job unless one with this id is waiting or running. A job that failed for good is
   * removed first, so asking again (e.g. re-ingesting a digest whose matching failed) retries it.
   */
  private async addOnce(queue: Queue, name: string, data: object, jobId: string): Promise<void> {
    const existing = await queue.getJob(jobId);
    if (existing && ((await existing.isFailed()) || (await existing.isCompleted()))) await existing.remove();
    await queue.add(name, data, { jobId });
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
