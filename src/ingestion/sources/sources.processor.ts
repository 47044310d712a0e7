import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Job, UnrecoverableError } from 'bullmq';
import { PullSourceJob, QUEUES } from '../../infra/queue/queues';
import { DigestFormatError } from '../digest.types';
import { FetchError } from './safe-fetch';
import { SourcesService } from './sources.service';

/**
 * Thin adapter: one pull per job. Refusals (private address, 4xx, a bad query) and bad config
 * fail for good; network errors, 429/5xx and malformed answers are retried with backoff.
 */
@Processor(QUEUES.sources, { concurrency: 1 })
export class SourcesProcessor extends WorkerHost {
  constructor(private readonly sources: SourcesService) {
    super();
  }

  async process(job: Job<PullSourceJob>) {
    try {
      return await this.sources.pull(job.data.source, { trigger: job.data.trigger, attempt: job.attemptsMade + 1 });
    } catch (e) {
      if ((e instanceof FetchError && !e.retriable) || (e instanceof DigestFormatError && /is not a source|not an arXiv category/.test(e.message)))
        throw new UnrecoverableError((e as Error).message);
      throw e;
    }
  }
}
