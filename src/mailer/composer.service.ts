import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { JobProducer } from '../infra/queue/job-producer.service';
import { ComposeScope, DeliveryRepository } from './delivery.repository';

@Injectable()
export class ComposerService {
  private readonly logger = new Logger(ComposerService.name);

  constructor(
    private readonly repo: DeliveryRepository,
    private readonly jobs: JobProducer,
    private readonly config: AppConfig,
  ) {}

  /** After a digest is matched: one email per instant subscriber it matched (with all their undelivered matches). */
  async composeForDigest(digestId: number): Promise<number> {
    const n = await this.composeAndQueue({ kind: 'digest', digestId });
    await this.repo.markDigestComposed(digestId);
    this.logger.log(`digest ${digestId}: ${n} deliveries queued`);
    return n;
  }

  /** Daily and weekly subscribers whose local send hour has come (run by the cadence tick). */
  async composeDue(now = new Date()): Promise<number> {
    const n = await this.composeAndQueue({ kind: 'due', now });
    if (n) this.logger.log(`cadence: ${n} deliveries queued`);
    return n;
  }

  /**
   * An admin's "send now", whatever the subscribers' cadence: everyone with undelivered matches,
   * or one subscriber, or the subscribers matched by one digest.
   */
  async sendNow(filter: { subscriberId?: string; digestId?: number } = {}, now = new Date()): Promise<number> {
    const issueKey = `manual-${now.toISOString()}`;
    const n = await this.composeAndQueue({ kind: 'now', issueKey, ...filter });
    this.logger.log(`${issueKey}: ${n} deliveries queued`);
    return n;
  }

  /**
   * Composes in transactions of COMPOSE_CHUNK_SIZE subscribers (COMPOSE_CONCURRENCY at a time) and queues each chunk's
   * deliveries right after its commit, so no transaction grows with the fan-out and only one
   * chunk of ids is held in memory. If the process dies between a commit and its queueing, the
   * reconciler re-queues those pending deliveries; a re-run composes only what is left.
   */
  private async composeAndQueue(scope: ComposeScope): Promise<number> {
    let n = 0;
    for await (const rows of this.repo.composeChunks(scope, this.config.env.COMPOSE_CHUNK_SIZE, this.config.env.COMPOSE_CONCURRENCY)) {
      if (rows.length === 0) continue;
      await this.jobs.sendDeliveries(rows);
      n += rows.length;
    }
    return n;
  }
}
