import { Injectable, Logger } from '@nestjs/common';
import { JobProducer } from '../infra/queue/job-producer.service';
import { DeliveryRepository } from './delivery.repository';

@Injectable()
export class ComposerService {
  private readonly logger = new Logger(ComposerService.name);

  constructor(
    private readonly repo: DeliveryRepository,
    private readonly jobs: JobProducer,
  ) {}

  /** After a digest is matched: one email per instant subscriber it matched (with all their undelivered matches). */
  async composeForDigest(digestId: number): Promise<number> {
    const ids = await this.repo.compose({ kind: 'digest', digestId });
    await this.jobs.sendDeliveries(ids);
    await this.repo.markDigestComposed(digestId);
    this.logger.log(`digest ${digestId}: ${ids.length} deliveries queued`);
    return ids.length;
  }

  /** Daily and weekly subscribers whose local send hour has come (run by the cadence tick). */
  async composeDue(now = new Date()): Promise<number> {
    const ids = await this.repo.compose({ kind: 'due', now });
    await this.jobs.sendDeliveries(ids);
    if (ids.length) this.logger.log(`cadence: ${ids.length} deliveries queued`);
    return ids.length;
  }

  /**
   * An admin's "send now", whatever the subscribers' cadence: everyone with undelivered matches,
   * or one subscriber, or the subscribers matched by one digest.
   */
  async sendNow(filter: { subscriberId?: string; digestId?: number } = {}, now = new Date()): Promise<number> {
    const issueKey = `manual-${now.toISOString()}`;
    const ids = await this.repo.compose({ kind: 'now', issueKey, ...filter });
    await this.jobs.sendDeliveries(ids);
    this.logger.log(`${issueKey}: ${ids.length} deliveries queued`);
    return ids.length;
  }
}
