import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import { Queue } from 'bullmq';
import { JOBS, jobIds, QUEUES } from './queues';

/** The only place jobs are added. Callers pass ids; job ids are deterministic. */
@Injectable()
export class JobProducer {
  constructor(
    @InjectQueue(QUEUES.matching) private readonly matching: Queue,
    @InjectQueue(QUEUES.mailer) private readonly mailer: Queue,
  ) {}

  async matchDigest(digestId: number): Promise<void> {
    await this.matching.add(JOBS.matchDigest, { digestId }, { jobId: jobIds.matchDigest(digestId) });
  }

  async composeDigest(digestId: number): Promise<void> {
    await this.mailer.add(JOBS.composeDigest, { digestId }, { jobId: jobIds.composeDigest(digestId) });
  }

  /** Enqueues sends in batches (one round trip per chunk). */
  async sendDeliveries(deliveryIds: number[]): Promise<void> {
    const chunk = 1000;
    for (let i = 0; i < deliveryIds.length; i += chunk) {
      await this.mailer.addBulk(
        deliveryIds.slice(i, i + chunk).map((deliveryId) => ({
          name: JOBS.send,
          data: { deliveryId },
          opts: { jobId: jobIds.send(deliveryId) },
        })),
      );
    }
  }

  /** Jobs not yet finished, per queue (for the demo's wait and for health output). */
  async pendingCounts(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const [name, q] of [
      [QUEUES.matching, this.matching],
      [QUEUES.mailer, this.mailer],
    ] as const) {
      const c = await q.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'waiting-children');
      out[name] = Object.values(c).reduce((a, b) => a + b, 0);
    }
    return out;
  }
}
