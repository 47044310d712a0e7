import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Job } from 'bullmq';
import { JobProducer } from '../infra/queue/job-producer.service';
import { MatchDigestJob, QUEUES } from '../infra/queue/queues';
import { MatchingService } from './matching.service';

@Processor(QUEUES.matching, { concurrency: 1 })
export class MatchingProcessor extends WorkerHost {
  constructor(
    private readonly matching: MatchingService,
    private readonly jobs: JobProducer,
  ) {
    super();
  }

  async process(job: Job<MatchDigestJob>) {
    const result = await this.matching.matchDigest(job.data.digestId);
    await this.jobs.composeDigest(result.digest);
    return { ...result, digest: result.digest.id };
  }
}
