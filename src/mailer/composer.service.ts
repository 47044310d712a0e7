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

  /** After a digest is matched: one email per instant subscriber with undelivered matches. */
  async composeForDigest(digestId: number): Promise<number> {
    const ids = await this.repo.compose(`digest-${digestId}`, { kind: 'instant' });
    await this.jobs.sendDeliveries(ids);
    await this.repo.markDigestComposed(digestId);
    this.logger.log(`digest ${digestId}: ${ids.length} deliveries queued`);
    return ids.length;
  }

  /** An admin's "send now": every active subscriber's undelivered matches, whatever their cadence. */
  async sendNow(issueKey = `manual-${new Date().toISOString()}`): Promise<number> {
    const ids = await this.repo.compose(issueKey, { kind: 'all' });
    await this.jobs.sendDeliveries(ids);
    this.logger.log(`${issueKey}: ${ids.length} deliveries queued`);
    return ids.length;
  }
}
