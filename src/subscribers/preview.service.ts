import { Injectable } from '@nestjs/common';
import { compileTopics, InMemoryStats, matchPapers, PaperBatch, validateQuery } from '../matching/engine';
import { MAX_TOPICS_PER_SUBSCRIBER } from './subscribers.service';
import { RecentPaper, SelfServiceRepository } from './self-service.repository';
import { topicLines } from './subscription-input';

export const PREVIEW_DAYS = 30;
const PREVIEW_MAX_PAPERS = 5000;
const PREVIEW_SHOWN = 5;
const CACHE_MS = 60_000;

export interface AlertPreview {
  topic: string;
  /** The query language's message when the alert does not parse. */
  error: string | null;
  /** How many of the last 30 days' papers it matched. */
  total: number;
  papers: { title: string; url: string | null; date: string; why: string }[];
}

interface Corpus {
  at: number;
  papers: RecentPaper[];
  batch: PaperBatch;
  stats: InMemoryStats;
}

/**
 * "What would this alert have caught?": each alert against the papers ingested in the last 30
 * days, with the real matching engine. The corpus is loaded and indexed at most once a minute.
 */
@Injectable()
export class PreviewService {
  private corpus?: Promise<Corpus>;

  constructor(private readonly repo: SelfServiceRepository) {}

  async preview(raw: unknown): Promise<AlertPreview[]> {
    const lines = (topicLines(raw) ?? []).map((t) => t.replace(/[ \t]+/g, ' ').trim()).filter(Boolean);
    const topics = [...new Set(lines)].slice(0, MAX_TOPICS_PER_SUBSCRIBER);
    if (!topics.length) return [];
    const { papers, batch, stats } = await this.load();
    return topics.map((topic) => {
      const error = validateQuery(topic);
      if (error) return { topic, error, total: 0, papers: [] };
      const matches = matchPapers(compileTopics([{ id: 't', query: topic }]), batch, stats).get('t') ?? [];
      const byId = new Map(papers.map((p) => [String(p.id), p]));
      const shown = [...matches].sort((a, b) => b.score - a.score).slice(0, PREVIEW_SHOWN);
      return {
        topic,
        error: null,
        total: matches.length,
        papers: shown.map((m) => {
          const p = byId.get(m.paperId)!;
          return {
            title: p.title,
            url: p.arxivId ? `https://arxiv.org/abs/${p.arxivId.replace(/v\d+$/, '')}` : p.url,
            date: p.createdAt.toISOString().slice(0, 10),
            why: m.why,
          };
        }),
      };
    });
  }

  private load(): Promise<Corpus> {
    const current = this.corpus;
    if (current) {
      return current.then((c) => {
        if (Date.now() - c.at < CACHE_MS) return c;
        if (this.corpus === current) this.corpus = undefined;
        return this.load();
      });
    }
    const next = (async () => {
      const papers = await this.repo.recentPapers(new Date(Date.now() - PREVIEW_DAYS * 24 * 3600_000), PREVIEW_MAX_PAPERS);
      const engine = papers.map((p) => ({ id: String(p.id), title: p.title, abstract: p.abstract, authors: p.authors }));
      return { at: Date.now(), papers, batch: new PaperBatch(engine), stats: InMemoryStats.fromPapers(engine) };
    })();
    this.corpus = next;
    next.catch(() => {
      if (this.corpus === next) this.corpus = undefined;
    });
    return next;
  }
}
