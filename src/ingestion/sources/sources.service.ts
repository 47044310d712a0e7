import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { parseSourceSpec, SourceSpec } from '../../config/sources.config';
import { DigestFormatError } from '../digest.types';
import { IngestionService } from '../ingestion.service';
import { formatIsoDate } from '../parsers/digest-date';
import { ArxivApiSource } from './arxiv-api.source';
import { ArxivRssSource } from './arxiv-rss.source';
import { HfDailySource } from './hf-daily.source';
import { RequestSpacer, safeFetch } from './safe-fetch';
import { PullCounts, PullRecord, SourcePullRepository } from './source-pull.repository';
import { DAY_MS, DayRange, Fetcher, PaperSource } from './source.types';

export type PullTrigger = 'schedule' | 'backfill';

export interface PullOptions {
  trigger: PullTrigger;
  /** Days to pull; default: the source's scheduled range (e.g. yesterday and today). */
  range?: DayRange;
  /** 1-based job attempt, recorded with the pull. */
  attempt?: number;
  now?: Date;
  onProgress?: (progress: { done: number; total: number }, counts: PullCounts) => void;
}

export interface PullSummary extends PullCounts {
  pullId: number;
  source: string;
  /** Digests this pull stored or found already stored. */
  digestIds: number[];
  problems: string[];
}

export interface SourceStatus {
  name: string;
  enabled: boolean;
  schedule?: string;
  lastPull?: PullRecord;
}

/** Backfills are capped so a typo in a year does not start a ten-year crawl. */
export const MAX_BACKFILL_DAYS = 366;
/** arXiv's published limit: one request every 3 seconds. */
export const ARXIV_MIN_INTERVAL_MS = 3000;

/**
 * Pulls feed sources into the ingestion pipeline and records every pull. Each source is its own
 * job, so one failing source is retried on its own and never holds up the others.
 */
@Injectable()
export class SourcesService {
  private readonly logger = new Logger(SourcesService.name);
  /** One spacer for every arXiv host: arXiv asks for one request per 3 s, on one connection. */
  private readonly arxivSpacer: RequestSpacer;

  constructor(
    private readonly config: AppConfig,
    private readonly ingestion: IngestionService,
    private readonly pulls: SourcePullRepository,
  ) {
    // Against arXiv itself the 3 s floor holds whatever the config says; a lower value is for local mirrors and tests.
    const realArxiv = [config.env.ARXIV_API_URL, config.env.ARXIV_RSS_URL].some((u) => /(^|\.)arxiv\.org$/i.test(new URL(u).hostname));
    this.arxivSpacer = new RequestSpacer(realArxiv ? Math.max(ARXIV_MIN_INTERVAL_MS, config.env.ARXIV_REQUEST_INTERVAL_MS) : config.env.ARXIV_REQUEST_INTERVAL_MS);
  }

  /** The spacing of requests to arXiv in this process. */
  get arxivIntervalMs(): number {
    return this.arxivSpacer.intervalMs;
  }

  /** The sources SOURCES enables, with their cron patterns (UTC). */
  enabled(): { spec: SourceSpec; pattern: string }[] {
    const env = this.config.env;
    return env.SOURCES.map((spec) => ({ spec, pattern: spec.kind === 'hf-daily' ? env.SOURCE_SCHEDULE_HF : env.SOURCE_SCHEDULE_ARXIV }));
  }

  /** An adapter for a source name ("hf-daily", "arxiv-rss:cs.LG", …), enabled or not (backfills name any). */
  source(name: string): PaperSource {
    // Jobs carry the lower-case name; the enabled spec keeps the category as configured (cs.LG).
    const spec = this.config.env.SOURCES.find((s) => s.name === name.toLowerCase()) ?? parseSourceSpec(name);
    if (typeof spec === 'string') throw new DigestFormatError(spec);
    const env = this.config.env;
    const fetcher: Fetcher = (url, accept) => safeFetch(url, { allowHosts: env.FETCH_ALLOW_HOSTS, accept });
    const arxivFetcher: Fetcher = (url, accept) => this.arxivSpacer.run(() => fetcher(url, accept));
    switch (spec.kind) {
      case 'hf-daily':
        return new HfDailySource(env.HF_API_URL, fetcher);
      case 'arxiv-rss':
        return new ArxivRssSource(env.ARXIV_RSS_URL, spec.category!, arxivFetcher);
      case 'arxiv-api':
        return new ArxivApiSource(env.ARXIV_API_URL, spec.category!, arxivFetcher);
    }
  }

  /**
   * Pulls one source: every digest goes through IngestionService.ingest (papers folded by arXiv
   * id, then title; matching queued), revisions update stored papers. The pull is recorded as it
   * ends; a failure is recorded and rethrown so the job retries.
   */
  async pull(name: string, opts: PullOptions): Promise<PullSummary> {
    const source = this.source(name);
    let range: DayRange | undefined;
    if (opts.range) {
      if (!source.supportsRange) throw new DigestFormatError(`${source.name} serves only the current listing and cannot backfill; use arxiv-api:CATEGORY for past days`);
      const days = (opts.range.to.getTime() - opts.range.from.getTime()) / DAY_MS + 1;
      if (days < 1) throw new DigestFormatError('--from must not be after --to');
      if (days > MAX_BACKFILL_DAYS) throw new DigestFormatError(`a pull covers at most ${MAX_BACKFILL_DAYS} days (asked for ${days})`);
      range = opts.range;
    } else range = source.scheduledRange(opts.now ?? new Date());

    const counts: PullCounts = { digests: 0, newPapers: 0, updatedPapers: 0, skippedPapers: 0 };
    const problems: string[] = [];
    const digestIds: number[] = [];
    const pullId = await this.pulls.start({
      source: source.name,
      trigger: opts.trigger,
      attempt: opts.attempt ?? 1,
      ...(source.supportsRange ? { rangeFrom: range.from, rangeTo: range.to } : {}),
    });
    try {
      for await (const batch of source.pull(range)) {
        for (const digest of batch.digests) {
          const r = await this.ingestion.ingest(digest);
          digestIds.push(r.digestId);
          if (r.created) counts.digests++;
          counts.newPapers += r.newPapers;
          counts.updatedPapers += r.updatedPapers;
          counts.skippedPapers += r.papers - r.newPapers - r.updatedPapers;
        }
        const revised = await this.ingestion.revisePapers(batch.revisions);
        counts.updatedPapers += revised.updated;
        counts.skippedPapers += revised.skipped + batch.skipped;
        problems.push(...batch.problems);
        opts.onProgress?.(batch.progress, { ...counts });
      }
    } catch (e) {
      const message = (e as Error).message;
      await this.pulls.finish(pullId, counts, message.slice(0, 2000));
      this.logger.error(`pull ${pullId} of ${source.name} failed (attempt ${opts.attempt ?? 1}): ${message}`);
      throw e;
    }
    await this.pulls.finish(pullId, counts);
    if (problems.length) this.logger.warn(`pull ${pullId} of ${source.name}: skipped invalid items: ${problems.slice(0, 5).join('; ')}`);
    this.logger.log(
      `pull ${pullId} of ${source.name} (${formatIsoDate(range.from)}..${formatIsoDate(range.to)}): ${counts.digests} new digest(s), ` +
        `${counts.newPapers} new, ${counts.updatedPapers} updated, ${counts.skippedPapers} skipped paper(s)`,
    );
    return { pullId, source: source.name, digestIds, problems, ...counts };
  }

  /** Every enabled source with its schedule and last pull, plus any other source pulled recently. */
  async status(limit = 20): Promise<{ sources: SourceStatus[]; pulls: PullRecord[]; arxivIntervalMs: number }> {
    const pulls = await this.pulls.recent(limit);
    const sources: SourceStatus[] = this.enabled().map(({ spec, pattern }) => ({ name: spec.name, enabled: true, schedule: pattern }));
    for (const p of pulls) if (!sources.some((s) => s.name === p.source)) sources.push({ name: p.source, enabled: false });
    for (const s of sources) s.lastPull = (await this.pulls.recent(1, s.name))[0];
    return { sources, pulls, arxivIntervalMs: this.arxivIntervalMs };
  }
}
