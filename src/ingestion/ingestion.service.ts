import { Injectable, Logger } from '@nestjs/common';
import { JobProducer } from '../infra/queue/job-producer.service';
import { CollectionStatsRepository } from '../matching/collection-stats.repository';
import { DigestInput, IngestResult } from './digest.types';
import { IngestionRepository, PaperRevision } from './ingestion.repository';
import { digestFromJson, digestFromPage, ParseOptions } from './parsers/digest-input';
import { formatIsoDate } from './parsers/digest-date';

@Injectable()
export class IngestionService {
  private readonly logger = new Logger(IngestionService.name);

  constructor(
    private readonly repo: IngestionRepository,
    private readonly stats: CollectionStatsRepository,
    private readonly jobs: JobProducer,
  ) {}

  importPage(text: string, opts: ParseOptions = {}): Promise<IngestResult> {
    return this.ingest(digestFromPage(text, opts));
  }

  importJson(body: unknown, opts: ParseOptions = {}): Promise<IngestResult> {
    return this.ingest(digestFromJson(body, opts));
  }

  /**
   * arXiv replacements: update stored papers in place, and the collection statistics with their
   * new text; nothing is matched or mailed again.
   */
  revisePapers(revisions: PaperRevision[]): Promise<{ updated: number; skipped: number }> {
    return revisions.length
      ? this.repo.revisePapers(revisions, (tx, before, after) => this.stats.recordRevisedPaper(tx, before, after))
      : Promise.resolve({ updated: 0, skipped: 0 });
  }

  /**
   * Stores the digest (one transaction), then queues matching: the job can only see committed
   * rows. Re-ingesting a known digest stores nothing; if its pipeline never finished (a lost job),
   * matching is queued again under the same deterministic job id.
   */
  async ingest(d: DigestInput): Promise<IngestResult> {
    const stored = await this.repo.storeDigest(d, (tx, fresh) =>
      this.stats.recordNewPapers(
        tx,
        fresh.map((f) => ({ id: String(f.id), title: f.paper.title, abstract: f.paper.abstract, authors: f.paper.authors })),
      ),
    );
    if (stored.status === 'ingested') await this.jobs.matchDigest({ id: stored.digestId, createdAt: stored.createdAt });
    const result: IngestResult = {
      digestId: stored.digestId,
      created: stored.created,
      source: d.source,
      date: formatIsoDate(d.date),
      papers: d.papers.length,
      newPapers: stored.newPapers,
      updatedPapers: stored.updatedPapers,
    };
    this.logger.log(
      stored.created
        ? `digest ${result.digestId} (${result.source}, ${result.date}) stored: ${result.papers} papers, ${result.newPapers} new`
        : `digest ${result.digestId} (${result.source}, ${result.date}) was already ingested; nothing stored`,
    );
    return result;
  }
}
