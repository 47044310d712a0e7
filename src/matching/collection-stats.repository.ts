import { Injectable, Logger } from '@nestjs/common';
import { Prisma } from '../generated/prisma/client';
import { PrismaService } from '../infra/prisma/prisma.service';
import { ANALYZER_VERSION, CollectionStats, EnginePaper, paperCounts } from './engine';

/** Statistics loaded for some terms; `holds` tells which (a df of 0 for the others means "not loaded"). */
export interface LoadedStats extends CollectionStats {
  holds(term: string): boolean;
}

/** Papers read per page when the statistics are counted again. */
const REBUILD_PAGE = 2_000;

/**
 * Collection statistics for scoring, persisted as (term, df) rows plus one counter row, and
 * updated incrementally in the same transaction that stores new papers. The counter row records
 * the text analysis that made them (ANALYZER_VERSION): statistics made by an earlier one are
 * counted again from the stored papers before they are used (ensureCurrent).
 */
@Injectable()
export class CollectionStatsRepository {
  private readonly logger = new Logger(CollectionStatsRepository.name);

  constructor(private readonly prisma: PrismaService) {}

  async recordNewPapers(tx: Prisma.TransactionClient, papers: EnginePaper[]): Promise<void> {
    const { titleTokens, abstractTokens } = await this.addTerms(tx, papers);
    // A new counter row is made by the running analysis; an existing one keeps its version until
    // a rebuild (its other counts were made by the analysis it names).
    await tx.$executeRaw`
      INSERT INTO collection_stat (id, doc_count, title_tokens, abstract_tokens, analyzer_version)
      VALUES (1, ${papers.length}, ${titleTokens}, ${abstractTokens}, ${ANALYZER_VERSION})
      ON CONFLICT (id) DO UPDATE SET
        doc_count = collection_stat.doc_count + excluded.doc_count,
        title_tokens = collection_stat.title_tokens + excluded.title_tokens,
        abstract_tokens = collection_stat.abstract_tokens + excluded.abstract_tokens`;
  }

  /**
   * A stored paper's text was replaced (an arXiv revision): its old terms and token counts leave
   * the statistics and its new ones enter them, in the caller's transaction, so that they stay
   * what counting every stored paper would give.
   */
  async recordRevisedPaper(tx: Prisma.TransactionClient, before: { title: string; abstract: string }, after: { title: string; abstract: string }): Promise<void> {
    const old = paperCounts(before);
    const now = paperCounts(after);
    const delta = new Map<string, number>();
    for (const t of old.terms) delta.set(t, -1);
    for (const t of now.terms) delta.set(t, (delta.get(t) ?? 0) + 1);
    const terms = [...delta.keys()].filter((t) => delta.get(t) !== 0).sort();
    if (terms.length > 0) {
      // One statement in the order addTerms uses, so that it cannot deadlock with ingestion.
      // A term the statistics lack (counted by an earlier analysis, or stored before them) is
      // inserted with its delta, and a row left with no paper is removed.
      const deltas = terms.map((t) => delta.get(t)!);
      await tx.$executeRaw`
        INSERT INTO term_stat (term, df)
        SELECT * FROM unnest(${terms}::text[], ${deltas}::int[])
        ON CONFLICT (term) DO UPDATE SET df = term_stat.df + excluded.df`;
      const gone = terms.filter((t) => delta.get(t)! < 0);
      if (gone.length > 0) await tx.$executeRaw`DELETE FROM term_stat WHERE term = ANY(${gone}::text[]) AND df <= 0`;
    }
    const titleTokens = now.title - old.title;
    const abstractTokens = now.abstract - old.abstract;
    if (titleTokens !== 0 || abstractTokens !== 0) {
      await tx.$executeRaw`
        UPDATE collection_stat SET
          title_tokens = GREATEST(0, title_tokens + ${titleTokens}),
          abstract_tokens = GREATEST(0, abstract_tokens + ${abstractTokens})
        WHERE id = 1`;
    }
  }

  /** Adds the papers' terms to term_stat; returns their token counts. */
  private async addTerms(tx: Prisma.TransactionClient, papers: EnginePaper[]): Promise<{ titleTokens: number; abstractTokens: number }> {
    const df = new Map<string, number>();
    let titleTokens = 0;
    let abstractTokens = 0;
    for (const p of papers) {
      const counts = paperCounts(p);
      for (const t of counts.terms) df.set(t, (df.get(t) ?? 0) + 1);
      titleTokens += counts.title;
      abstractTokens += counts.abstract;
    }
    const terms = [...df.keys()].sort(); // a stable order keeps concurrent upserts from deadlocking
    const counts = terms.map((t) => df.get(t)!);
    if (terms.length > 0) {
      await tx.$executeRaw`
        INSERT INTO term_stat (term, df)
        SELECT * FROM unnest(${terms}::text[], ${counts}::int[])
        ON CONFLICT (term) DO UPDATE SET df = term_stat.df + excluded.df`;
    }
    return { titleTokens, abstractTokens };
  }

  /**
   * Counts the statistics again from the stored papers when they were made by an earlier text
   * analysis (after an upgrade that changed the stemmer); true when it did. A later analysis's
   * statistics are left alone (an older process during a rolling upgrade does not undo a newer
   * one's rebuild).
   */
  async ensureCurrent(): Promise<boolean> {
    const row = await this.prisma.collectionStat.findUnique({ where: { id: 1 }, select: { analyzerVersion: true } });
    if (!row || row.analyzerVersion >= ANALYZER_VERSION) return false;
    return (await this.rebuild({ onlyIfOlder: true })) !== undefined;
  }

  /**
   * Replaces term_stat and the counters with counts of every stored paper under the running text
   * analysis, in one transaction: until it commits, readers see the old statistics, and papers
   * stored meanwhile wait for it and are then counted once. With `onlyIfOlder`, does nothing
   * (undefined) when another process has rebuilt them since.
   */
  async rebuild({ onlyIfOlder = false } = {}): Promise<{ papers: number; terms: number } | undefined> {
    const started = Date.now();
    const result = await this.prisma.$transaction(
      async (tx) => {
        // Ingestion writes both tables in its own transactions, term_stat first (recordNewPapers):
        // locked in the same order, one waits for the other instead of deadlocking.
        await tx.$executeRaw`LOCK TABLE term_stat, collection_stat IN EXCLUSIVE MODE`;
        if (onlyIfOlder) {
          const row = await tx.collectionStat.findUnique({ where: { id: 1 }, select: { analyzerVersion: true } });
          if (!row || row.analyzerVersion >= ANALYZER_VERSION) return undefined;
        }
        await tx.$executeRaw`DELETE FROM term_stat`;
        let papers = 0;
        let titleTokens = 0;
        let abstractTokens = 0;
        for (let after = 0; ; ) {
          const rows = await tx.paper.findMany({
            where: { id: { gt: after } },
            orderBy: { id: 'asc' },
            take: REBUILD_PAGE,
            select: { id: true, title: true, abstract: true },
          });
          if (rows.length === 0) break;
          after = rows[rows.length - 1].id;
          const counted = await this.addTerms(
            tx,
            rows.map((r) => ({ id: String(r.id), title: r.title, abstract: r.abstract })),
          );
          papers += rows.length;
          titleTokens += counted.titleTokens;
          abstractTokens += counted.abstractTokens;
        }
        await tx.$executeRaw`
          INSERT INTO collection_stat (id, doc_count, title_tokens, abstract_tokens, analyzer_version)
          VALUES (1, ${papers}, ${titleTokens}, ${abstractTokens}, ${ANALYZER_VERSION})
          ON CONFLICT (id) DO UPDATE SET
            doc_count = excluded.doc_count,
            title_tokens = excluded.title_tokens,
            abstract_tokens = excluded.abstract_tokens,
            analyzer_version = excluded.analyzer_version`;
        const terms = await tx.termStat.count();
        return { papers, terms };
      },
      // Minutes for a large collection: counting is one pass over the papers.
      { maxWait: 60_000, timeout: 6 * 60 * 60_000 },
    );
    if (result) {
      this.logger.log(`collection statistics counted again (text analysis ${ANALYZER_VERSION}): ${result.papers} papers, ${result.terms} terms in ${Date.now() - started} ms`);
    }
    return result;
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
