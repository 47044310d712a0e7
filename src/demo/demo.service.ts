import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Injectable } from '@nestjs/common';
import { IngestResult } from '../ingestion/digest.types';
import { IngestionService } from '../ingestion/ingestion.service';
import { projectRoot } from '../infra/prisma/migrate';
import { SubscribersService } from '../subscribers/subscribers.service';
import { DEMO_SUBSCRIBERS } from './demo-subscribers';
import { PipelineRepository, PipelineTotals } from './pipeline.repository';

export interface DemoSummary extends PipelineTotals {
  newDigests: number;
  emailsSent: number;
  emailsFailed: number;
  recipients: { email: string; emails: number; papers: number; topics: string[] }[];
}

@Injectable()
export class DemoService {
  constructor(
    private readonly subscribers: SubscribersService,
    private readonly ingestion: IngestionService,
    private readonly pipeline: PipelineRepository,
  ) {}

  static samplePages(): string[] {
    const dir = join(projectRoot(), 'prisma', 'seed-digests');
    return readdirSync(dir)
      .filter((f) => f.endsWith('.txt'))
      .sort()
      .map((f) => join(dir, f));
  }

  async seedSubscribers(): Promise<void> {
    for (const s of DEMO_SUBSCRIBERS) {
      await this.subscribers.addOrUpdate({ ...s, frequency: 'instant', status: 'active', consentSource: 'demo-seed' });
    }
  }

  async ingestSamples(): Promise<IngestResult[]> {
    const results: IngestResult[] = [];
    for (const file of DemoService.samplePages()) results.push(await this.ingestion.importPage(readFileSync(file, 'utf8')));
    return results;
  }

  /** Polls until the digests are composed and every delivery is sent or failed. */
  async waitUntilSettled(digestIds: number[], timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await this.pipeline.settled(digestIds))) {
      if (Date.now() > deadline) throw new Error(`the pipeline did not finish within ${Math.round(timeoutMs / 1000)} s (are Redis and the SMTP server reachable?)`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  async summary(since: Date, newDigests: number): Promise<DemoSummary> {
    const outcomes = await this.pipeline.outcomesSince(since);
    return {
      ...(await this.pipeline.totals()),
      newDigests,
      emailsSent: outcomes.sent ?? 0,
      emailsFailed: outcomes.failed ?? 0,
      recipients: await this.pipeline.recipientsSince(since),
    };
  }
}
