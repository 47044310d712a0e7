import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Job } from 'bullmq';
import { JOBS, QUEUES, SubscriptionRequestJob } from '../infra/queue/queues';
import { SelfServiceService } from './self-service.service';

/** Thin adapter for the transactional queue (subscription confirmations). */
@Processor(QUEUES.transactional, { concurrency: 5 })
export class TransactionalProcessor extends WorkerHost {
  constructor(private readonly selfService: SelfServiceService) {
    super();
  }

  async process(job: Job<SubscriptionRequestJob>) {
    if (job.name !== JOBS.subscriptionRequest) throw new Error(`unknown job ${job.name} on ${QUEUES.transactional}`);
    return this.selfService.processRequest(job.data.requestId);
  }
}
