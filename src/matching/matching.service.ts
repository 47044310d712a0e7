import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import type { RowRef } from '../infra/queue/queues';
import { CollectionStatsRepository } from './collection-stats.repository';
import { compileTopics, CompiledTopic, documentTerms, matchPapers, PaperBatch, QuerySyntaxError, statTerms } from './engine';
import { MatchingRepository, TopicRow } from './matching.repository';

export interface MatchDigestResult {
  digest: RowRef;
  papers: number;
  topics: number;
  topicMatches: number;
  subscriberMatches: number;
}

@Injectable()
export class MatchingService {
  private readonly logger = new Logger(MatchingService.name);

  constructor(
    private readonly repo: MatchingRepository,
    private readonly stats: CollectionStatsRepository,
    private readonly config: AppConfig,
  ) {}

  /**
   * Scores a digest against every distinct active topic (in batches), stores the topic matches,
   * then fans them out to subscribers. Safe to run twice: every write is idempotent.
   */
  async matchDigest(digestId: number): Promise<MatchDigestResult> {
    const papers = await this.repo.digestPapers(digestId);
    if (!papers) throw new Error(`digest ${digestId} does not exist`);
    // Statistics counted by an earlier text analysis (before an upgrade) are counted again first.
    await this.stats.ensureCurrent();
    let topics = 0;
    let topicMatches = 0;
    // The papers are analysed, and their statistics loaded, once for the digest rather than once
    // per batch of topics: every batch is scored with the same snapshot of the papers' statistics
    // and the collection's counters, and feedback vectors (MATCH_FEEDBACK) are built once.
    const paperBatch = new PaperBatch(papers);
    const paperStats = await this.stats.load(papers.flatMap((p) => documentTerms(p)));
    const options = { feedback: this.config.env.MATCH_FEEDBACK, paperStats };
    for await (const batch of this.repo.activeTopics(this.config.env.MATCH_TOPIC_BATCH)) {
      const compiled = this.compile(batch);
      const stats = await this.stats.load(statTerms(compiled), paperStats);
      topicMatches += await this.repo.saveTopicMatches(digestId, matchPapers(compiled, paperBatch, stats, options));
      topics += batch.length;
    }
    const subscriberMatches = await this.repo.fanOut(digestId);
    const digest = await this.repo.markMatched(digestId);
    const result = { digest, papers: papers.length, topics, topicMatches, subscriberMatches };
    this.logger.log(`digest ${digestId}: ${papers.length} papers × ${topics} topics → ${topicMatches} topic matches, ${subscriberMatches} subscriber matches`);
    return result;
  }

  /** Stored topics were validated on the way in; one that no longer parses is skipped, loudly. */
  private compile(batch: TopicRow[]): CompiledTopic[] {
    const input = batch.map((t) => ({ id: String(t.id), query: t.query }));
    try {
      return compileTopics(input);
    } catch (e) {
      if (!(e instanceof QuerySyntaxError)) throw e;
      return input.flatMap((t) => {
        try {
          return compileTopics([t]);
        } catch (err) {
          this.logger.error(`topic ${t.id} is invalid and was skipped: ${(err as Error).message}`);
          return [];
        }
      });
    }
  }
}

