import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { JobProducer } from '../infra/queue/job-producer.service';
import { MetricsService } from '../metrics/metrics.service';
import { ReconcilerRepository } from './reconciler.repository';

export interface ReconcileResult {
  markedUnknown: number;
  requeuedSends: number;
  requeuedMatches: number;
  requeuedComposes: number;
}

/**
 * BullMQ is at-least-once and Redis can lose jobs; the database is the record of what must
 * happen. Every few minutes this re-queues what the queue lost, under the same deterministic job
 * ids (so nothing runs twice), and flags deliveries whose outcome is unknown.
 */
@Injectable()
export class ReconcilerService {
  private readonly logger = new Logger(ReconcilerService.name);

  constructor(
    private readonly repo: ReconcilerRepository,
    private readonly jobs: JobProducer,
    private readonly config: AppConfig,
    private readonly metrics: MetricsService,
  ) {}

  async reconcile(now = new Date()): Promise<ReconcileResult> {
    const staleBefore = new Date(now.getTime() - this.config.env.RECONCILE_AFTER_MS);
    const unknown = await this.repo.markStuckSendingUnknown(new Date(now.getTime() - this.config.env.UNKNOWN_AFTER_MS));
    if (unknown.length) this.logger.warn(`deliveries ${unknown.join(', ')} marked unknown (worker stopped mid-send); not resent`);
    const sends = await this.repo.staleQueued(staleBefore, 5000);
    await this.jobs.requeueSends(sends);
    const digests = await this.repo.staleDigests(staleBefore);
    for (const d of digests.ingested) await this.jobs.matchDigest(d);
    for (const d of digests.matched) await this.jobs.composeDigest(d);
    const result = {
      markedUnknown: unknown.length,
      requeuedSends: sends.length,
      requeuedMatches: digests.ingested.length,
      requeuedComposes: digests.matched.length,
    };
    this.metrics.reconciled.inc({ kind: 'marked_unknown' }, result.markedUnknown);
    this.metrics.reconciled.inc({ kind: 'requeued_send' }, result.requeuedSends);
    this.metrics.reconciled.inc({ kind: 'requeued_match' }, result.requeuedMatches);
    this.metrics.reconciled.inc({ kind: 'requeued_compose' }, result.requeuedComposes);
    return result;
  }

  /** An admin's decision to send failed or unknown deliveries again. */
  async reopen(status: 'failed' | 'unknown', ids?: number[]): Promise<number> {
    const rows = await this.repo.reopen(status, ids);
    await this.jobs.requeueSends(rows);
    return rows.length;
  }
}
