import { Injectable } from '@nestjs/common';
import { Prisma } from '../generated/prisma/client';
import { PrismaService } from '../infra/prisma/prisma.service';
import { CollectionStats, documentTerms, EnginePaper, fieldLengths } from './engine';

/** Statistics loaded for some terms; `holds` tells which (a df of 0 for the others means "not loaded"). */
export interface LoadedStats extends CollectionStats {
  holds(term: string): boolean;
}

/**
 * Collection statistics for scoring, persisted as (term, df) rows plus one counter row, and
 * updated incrementally in the same transaction that stores new papers.
 */
@Injectable()
export class CollectionStatsRepository {
  constructor(private readonly prisma: PrismaService) {}

  async recordNewPapers(tx: Prisma.TransactionClient, papers: EnginePaper[]): Promise<void> {
    const df = new Map<string, number>();
    let titleTokens = 0;
    let abstractTokens = 0;
    for (const p of papers) {
      for (const t of documentTerms(p)) df.set(t, (df.get(t) ?? 0) + 1);
      const len = fieldLengths(p);
      titleTokens += len.title;
      abstractTokens += len.abstract;
    }
    const terms = [...df.keys()].sort(); // a stable order keeps concurrent upserts from deadlocking
    const counts = terms.map((t) => df.get(t)!);
    await tx.$executeRaw`
      INSERT INTO term_stat (term, df)
      SELECT * FROM unnest(${terms}::text[], ${counts}::int[])
      ON CONFLICT (term) DO UPDATE SET df = term_stat.df + excluded.df`;
    await tx.$executeRaw`
      INSERT INTO collection_stat (id, doc_count, title_tokens, abstract_tokens)
      VALUES (1, ${papers.length}, ${titleTokens}, ${abstractTokens})
      ON CONFLICT (id) DO UPDATE SET
        doc_count = collection_stat.doc_count + excluded.doc_count,
        title_tokens = collection_stat.title_tokens + excluded.title_tokens,
        abstract_tokens = collection_stat.abstract_tokens + excluded.abstract_tokens`;
  }

  /**
   * Loads the counters and the document frequencies of the given terms only. With `base`, loads
   * only the terms `base` does not hold, and keeps base's counters and document frequencies: the
   * matching job loads a digest's paper terms once and each batch of topics on top of them, so
   * that the whole digest is scored against one snapshot of its papers' statistics.
   */
  async load(terms: string[], base?: LoadedStats): Promise<LoadedStats> {
    const df = new Map<string, number>();
    const unique = [...new Set(terms)].filter((t) => !base?.holds(t));
    for (let i = 0; i < unique.length; i += 10_000) {
      const rows = await this.prisma.termStat.findMany({ where: { term: { in: unique.slice(i, i + 10_000) } } });
      for (const r of rows) df.set(r.term, r.df);
    }
    const known = new Set(unique);
    if (base) {
      return {
        docCount: base.docCount,
        avgTitleLength: base.avgTitleLength,
        avgAbstractLength: base.avgAbstractLength,
        df: (term: string) => (known.has(term) ? (df.get(term) ?? 0) : base.df(term)),
        holds: (term: string) => known.has(term) || base.holds(term),
      };
    }
    const row = await this.prisma.collectionStat.findUnique({ where: { id: 1 } });
    const docCount = row?.docCount ?? 0;
    return {
      docCount,
      avgTitleLength: docCount ? Number(row!.titleTokens) / docCount : 0,
      avgAbstractLength: docCount ? Number(row!.abstractTokens) / docCount : 0,
      df: (term: string) => df.get(term) ?? 0,
      holds: (term: string) => known.has(term),
    };
  }
}
