import { Injectable, Logger } from '@nestjs/common';
import { Client } from 'pg';
import { AppConfig } from '../config/app-config';
import { Prisma } from '../generated/prisma/client';
import { PrismaService } from '../infra/prisma/prisma.service';
import { ANALYZER_VERSION, CollectionStats, EnginePaper, paperCounts } from './engine';

/** Statistics loaded for some terms; `holds` tells which (a df of 0 for the others means "not loaded"). */
export interface LoadedStats extends CollectionStats {
  holds(term: string): boolean;
}

/** Papers read per page when the statistics are counted again. */
const REBUILD_PAGE = 2_000;

/** Key of the PostgreSQL advisory lock that one rebuild at a time holds (any process). */
const REBUILD_LOCK = 0x7061_7065; // "pape"

/** Terms (sorted: concurrent upserts then take their row locks in one order) and their changes. */
interface TermDeltas {
  terms: string[];
  deltas: number[];
}

function sortedDeltas(delta: Map<string, number>): TermDeltas {
  const terms = [...delta.keys()].filter((t) => delta.get(t) !== 0).sort();
  return { terms, deltas: terms.map((t) => delta.get(t)!) };
}

/** What a set of papers adds to the statistics. */
function countPapers(papers: Pick<EnginePaper, 'title' | 'abstract'>[]): TermDeltas & { titleTokens: number; abstractTokens: number } {
  const df = new Map<string, number>();
  let titleTokens = 0;
  let abstractTokens = 0;
  for (const p of papers) {
    const counts = paperCounts(p);
    for (const t of counts.terms) df.set(t, (df.get(t) ?? 0) + 1);
    titleTokens += counts.title;
    abstractTokens += counts.abstract;
  }
  return { ...sortedDeltas(df), titleTokens, abstractTokens };
}

/**
 * Collection statistics for scoring, persisted as (term, df) rows plus one counter row, and
 * updated incrementally in the same transaction that stores new papers or revises one. The counter
 * row records the text analysis that made them (ANALYZER_VERSION): statistics made by an earlier one
 * are counted again from the stored papers before they are used (ensureCurrent), beside the live ones
 * (term_stat_next), so that writers wait only for the final copy.
 */
@Injectable()
export class CollectionStatsRepository {
  private readonly logger = new Logger(CollectionStatsRepository.name);

  constructor(
    private readonly prisma: PrismaService,
    private readonly config: AppConfig,
  ) {}

  async recordNewPapers(tx: Prisma.TransactionClient, papers: EnginePaper[]): Promise<void> {
    const counted = countPapers(papers);
    await upsertDeltas(tx, 'term_stat', counted);
    // A new counter row is made by the running analysis; an existing one keeps its version until
    // a rebuild (its other counts were made by the analysis it names). The row's `rebuilding` is
    // read after term_stat is written, under the row's lock: see rebuild.
    const [row] = await tx.$queryRaw<{ rebuilding: boolean }[]>`
      INSERT INTO collection_stat (id, doc_count, title_tokens, abstract_tokens, analyzer_version)
      VALUES (1, ${papers.length}, ${counted.titleTokens}, ${counted.abstractTokens}, ${ANALYZER_VERSION})
      ON CONFLICT (id) DO UPDATE SET
        doc_count = collection_stat.doc_count + excluded.doc_count,
        title_tokens = collection_stat.title_tokens + excluded.title_tokens,
        abstract_tokens = collection_stat.abstract_tokens + excluded.abstract_tokens
      RETURNING rebuilding`;
    if (row.rebuilding) await addToRebuild(tx, counted, papers.length, counted.titleTokens, counted.abstractTokens);
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
    const changed = sortedDeltas(delta);
    const titleTokens = now.title - old.title;
    const abstractTokens = now.abstract - old.abstract;
    if (changed.terms.length === 0 && titleTokens === 0 && abstractTokens === 0) return;
    // A term the statistics lack (counted by an earlier analysis, or stored before them) is
    // inserted with its change, and a row left with no paper is removed.
    await upsertDeltas(tx, 'term_stat', changed);
    const gone = changed.terms.filter((_, i) => changed.deltas[i] < 0);
    if (gone.length > 0) await tx.$executeRaw`DELETE FROM term_stat WHERE term = ANY(${gone}::text[]) AND df <= 0`;
    const rows = await tx.$queryRaw<{ rebuilding: boolean }[]>`
      UPDATE collection_stat SET
        title_tokens = GREATEST(0, title_tokens + ${titleTokens}),
        abstract_tokens = GREATEST(0, abstract_tokens + ${abstractTokens})
      WHERE id = 1
      RETURNING rebuilding`;
    // The rebuild's snapshot holds the old text: the change goes to its count too.
    if (rows[0]?.rebuilding) await addToRebuild(tx, changed, 0, titleTokens, abstractTokens);
  }

  /**
   * Counts the statistics again from the stored papers when they were made by an earlier text
   * analysis (after an upgrade that changed the stemmer); true when it did. A later analysis's
   * statistics are left alone (an older process during a rolling upgrade does not undo a newer
   * one's rebuild). Also ends a rebuild that a dead process left marked as running.
   */
  async ensureCurrent(): Promise<boolean> {
    const row = await this.prisma.collectionStat.findUnique({ where: { id: 1 }, select: { analyzerVersion: true, rebuilding: true } });
    if (!row) return false;
    if (row.analyzerVersion >= ANALYZER_VERSION) {
      if (row.rebuilding) await this.clearAbandonedRebuild();
      return false;
    }
    return (await this.rebuild({ onlyIfOlder: true })) !== undefined;
  }

  /**
   * Replaces term_stat and the counters with counts of every stored paper under the running text
   * analysis, without holding ingestion up for the count:
   *
   * 1. Under a lock that no statistics writer can pass (writers lock term_stat, then the counter
   *    row), empty term_stat_next, set `rebuilding`, and take a snapshot of the papers. A writer
   *    that wrote before is in the snapshot; one that writes after sees `rebuilding` (it reads it
   *    from the counter row it updates) and adds its change to term_stat_next as well.
   * 2. Count the snapshot's papers into term_stat_next, in another connection that imported the
   *    snapshot; writers go on meanwhile. A revision after the snapshot subtracts the old text,
   *    which the snapshot holds and the count adds.
   * 3. Under the writers' lock again, briefly: copy term_stat_next into term_stat, the next_*
   *    counters plus the count into the counters, and clear `rebuilding`.
   *
   * One rebuild runs at a time (a PostgreSQL advisory lock, released if the process dies); with
   * `onlyIfOlder`, it does nothing (undefined) when another process has rebuilt them since.
   * `onPage` (tests) runs after each page of papers is counted.
   */
  async rebuild({ onlyIfOlder = false, onPage }: { onlyIfOlder?: boolean; onPage?: (counted: number) => Promise<void> } = {}): Promise<{ papers: number; terms: number; writersHeldMs: number } | undefined> {
    const started = Date.now();
    const control = new Client({ connectionString: this.config.env.DATABASE_URL });
    const reader = new Client({ connectionString: this.config.env.DATABASE_URL });
    await control.connect();
    let marked = false;
    try {
      await reader.connect();
      await control.query('SELECT pg_advisory_lock($1)', [REBUILD_LOCK]);

      // 1. The snapshot, and writers told to count their changes twice.
      let locked = Date.now();
      await control.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
      // Before any query: the snapshot is taken at the first one, so it holds every writer that got in first.
      await control.query('LOCK TABLE term_stat, collection_stat IN SHARE ROW EXCLUSIVE MODE');
      const current = await control.query<{ analyzer_version: number }>('SELECT analyzer_version FROM collection_stat WHERE id = 1');
      if (onlyIfOlder && (current.rows.length === 0 || current.rows[0].analyzer_version >= ANALYZER_VERSION)) {
        await control.query('ROLLBACK');
        return undefined;
      }
      await control.query('TRUNCATE term_stat_next');
      await control.query(`
        INSERT INTO collection_stat (id, rebuilding) VALUES (1, true)
        ON CONFLICT (id) DO UPDATE SET rebuilding = true, next_doc_count = 0, next_title_tokens = 0, next_abstract_tokens = 0`);
      const snapshot = (await control.query<{ id: string }>('SELECT pg_export_snapshot() AS id')).rows[0].id;
      await reader.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      await reader.query(`SET TRANSACTION SNAPSHOT '${snapshot.replace(/'/g, "''")}'`);
      await control.query('COMMIT');
      marked = true;
      let held = Date.now() - locked;

      // 2. Count the snapshot's papers beside the live statistics.
      let papers = 0;
      let titleTokens = 0;
      let abstractTokens = 0;
      for (let after = 0; ; ) {
        const { rows } = await reader.query<{ id: number; title: string; abstract: string }>(
          'SELECT id, title, abstract FROM paper WHERE id > $1 ORDER BY id LIMIT $2',
          [after, REBUILD_PAGE],
        );
        if (rows.length === 0) break;
        after = rows[rows.length - 1].id;
        const counted = countPapers(rows);
        await upsertDeltas(this.prisma, 'term_stat_next', counted);
        papers += rows.length;
        titleTokens += counted.titleTokens;
        abstractTokens += counted.abstractTokens;
        await onPage?.(papers);
      }
      await reader.query('COMMIT');

      // 3. The copy, under the writers' lock.
      locked = Date.now();
      await control.query('BEGIN');
      await control.query('LOCK TABLE term_stat, collection_stat IN EXCLUSIVE MODE');
      await control.query('DELETE FROM term_stat');
      const copied = await control.query('INSERT INTO term_stat (term, df) SELECT term, df FROM term_stat_next WHERE df > 0');
      const counters = await control.query<{ doc_count: number }>(
        `UPDATE collection_stat SET
           doc_count = next_doc_count + $1,
           title_tokens = next_title_tokens + $2,
           abstract_tokens = next_abstract_tokens + $3,
           analyzer_version = $4,
           rebuilding = false, next_doc_count = 0, next_title_tokens = 0, next_abstract_tokens = 0
         WHERE id = 1
         RETURNING doc_count`,
        [papers, titleTokens, abstractTokens, ANALYZER_VERSION],
      );
      await control.query('TRUNCATE term_stat_next');
      await control.query('COMMIT');
      marked = false;
      held += Date.now() - locked;
      const result = { papers: counters.rows[0].doc_count, terms: copied.rowCount ?? 0, writersHeldMs: held };
      this.logger.log(
        `collection statistics counted again (text analysis ${ANALYZER_VERSION}): ${result.papers} papers, ${result.terms} terms in ${Date.now() - started} ms; writers waited at most ${held} ms`,
      );
      return result;
    } catch (e) {
      await control.query('ROLLBACK').catch(() => undefined);
      if (marked) await endRebuild(control).catch(() => undefined);
      throw e;
    } finally {
      await reader.end().catch(() => undefined);
      // Closing the session releases the advisory lock.
      await control.end().catch(() => undefined);
    }
  }

  /** A rebuild marked as running that no process holds the lock of (it died): writers stop counting twice. */
  private async clearAbandonedRebuild(): Promise<void> {
    const client = new Client({ connectionString: this.config.env.DATABASE_URL });
    await client.connect();
    try {
      const { rows } = await client.query<{ free: boolean }>('SELECT pg_try_advisory_lock($1) AS free', [REBUILD_LOCK]);
      if (!rows[0].free) return; // a rebuild is running
      await endRebuild(client);
      this.logger.warn('a rebuild of the collection statistics had been left unfinished; its partial count is dropped');
    } finally {
      await client.end().catch(() => undefined);
    }
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

/** Adds term changes to term_stat or term_stat_next (one statement, terms in sorted order; in `tx`, or on its own). */
async function upsertDeltas(tx: Prisma.TransactionClient, table: 'term_stat' | 'term_stat_next', { terms, deltas }: TermDeltas): Promise<void> {
  if (terms.length === 0) return;
  await tx.$executeRaw`
    INSERT INTO ${Prisma.raw(table)} (term, df)
    SELECT * FROM unnest(${terms}::text[], ${deltas}::int[])
    ON CONFLICT (term) DO UPDATE SET df = ${Prisma.raw(table)}.df + excluded.df`;
}

/**
 * A writer's change while a rebuild counts beside the live statistics (see rebuild): into the
 * rebuild's count as well, terms and counters.
 */
async function addToRebuild(tx: Prisma.TransactionClient, changed: TermDeltas, docs: number, titleTokens: number, abstractTokens: number): Promise<void> {
  await upsertDeltas(tx, 'term_stat_next', changed);
  await tx.$executeRaw`
    UPDATE collection_stat SET
      next_doc_count = next_doc_count + ${docs},
      next_title_tokens = next_title_tokens + ${titleTokens},
      next_abstract_tokens = next_abstract_tokens + ${abstractTokens}
    WHERE id = 1`;
}

/** Drops a rebuild's side count and tells writers to stop adding to it. */
async function endRebuild(client: Client): Promise<void> {
  await client.query('BEGIN');
  await client.query('LOCK TABLE term_stat, collection_stat IN EXCLUSIVE MODE');
  await client.query('UPDATE collection_stat SET rebuilding = false, next_doc_count = 0, next_title_tokens = 0, next_abstract_tokens = 0 WHERE id = 1');
  await client.query('TRUNCATE term_stat_next');
  await client.query('COMMIT');
}
