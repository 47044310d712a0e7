import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { Prisma } from '../generated/prisma/client';
import { PrismaService } from '../infra/prisma/prisma.service';
import { DigestInput, PaperInput } from './digest.types';
import { titleKey } from './parsers/paper-identity';
import { retryOnUniqueViolation } from '../infra/prisma/errors';

export interface StoredPaperRef {
  paperId: number;
  created: boolean;
  /** A known paper that gained fields from this input. */
  updated: boolean;
  paper: PaperInput;
}

/** An arXiv "replace" announcement: a new version of a paper, applied to the stored record only. */
export interface PaperRevision {
  arxivId: string;
  version: number;
  title: string;
  abstract: string;
  authors: string[];
  categories: string[];
}

/** What the stats updater needs to know about papers stored for the first time. */
export type NewPaperHook = (tx: Prisma.TransactionClient, papers: { id: number; paper: PaperInput }[]) => Promise<void>;

/** What the stats updater needs to know about a stored paper whose text a revision replaced. */
export type RevisedPaperHook = (tx: Prisma.TransactionClient, before: PaperText, after: PaperText) => Promise<void>;

export interface PaperText {
  title: string;
  abstract: string;
}

export interface StoreDigestResult {
  digestId: number;
  createdAt: Date;
  created: boolean;
  status: string;
  newPapers: number;
  updatedPapers: number;
}

/** Unique indexes that concurrent ingestion can run into, and how often a digest is tried. */
const RACED_INDEXES = ['paper_arxiv_id_key', 'paper_title_key_key', 'digest_content_hash_key'];
const STORE_ATTEMPTS = 5;

@Injectable()
export class IngestionRepository {
  constructor(private readonly prisma: PrismaService) {}

  static contentHash(d: DigestInput): string {
    const keys = d.papers.map((p) => p.arxivId ?? titleKey(p.title));
    return createHash('sha256').update(JSON.stringify([d.source, d.date.toISOString().slice(0, 10), keys])).digest('hex');
  }

  /**
   * Stores a digest and its papers in one transaction: all or nothing. A digest with the same
   * content hash is returned as it is (created: false). Papers are folded by arXiv id, then by
   * normalised title; known papers gain the fields they lacked (link, arXiv id, authors).
   */
  async storeDigest(d: DigestInput, onNewPapers: NewPaperHook): Promise<StoreDigestResult> {
    // Two digests stored at once that share a paper (or the same digest twice) race to insert it:
    // the loser's transaction is refused by the unique index and rolled back whole. Run again, it
    // finds the winner's rows and stores the rest.
    return retryOnUniqueViolation(STORE_ATTEMPTS, RACED_INDEXES, () => this.storeDigestOnce(d, onNewPapers));
  }

  private async storeDigestOnce(d: DigestInput, onNewPapers: NewPaperHook): Promise<StoreDigestResult> {
    const hash = IngestionRepository.contentHash(d);
    const existing = await this.prisma.digest.findUnique({ where: { contentHash: hash }, select: { id: true, status: true, createdAt: true } });
    if (existing) return { digestId: existing.id, createdAt: existing.createdAt, created: false, status: existing.status, newPapers: 0, updatedPapers: 0 };

    return this.prisma.$transaction(
      async (tx) => {
        const refs: StoredPaperRef[] = [];
        const seen = new Set<number>();
        for (const paper of d.papers) {
          const ref = await this.upsertPaper(tx, paper);
          // The same paper twice on one page is kept once, at its first position.
          if (!seen.has(ref.paperId)) refs.push(ref);
          seen.add(ref.paperId);
        }
        const digest = await tx.digest.create({
          data: { source: d.source, digestDate: d.date, contentHash: hash, paperCount: refs.length },
          select: { id: true, status: true, createdAt: true },
        });
        await tx.digestPaper.createMany({ data: refs.map((r, position) => ({ digestId: digest.id, paperId: r.paperId, position })) });
        const fresh = refs.filter((r) => r.created).map((r) => ({ id: r.paperId, paper: r.paper }));
        if (fresh.length) await onNewPapers(tx, fresh);
        const updatedPapers = refs.filter((r) => r.updated).length;
        return { digestId: digest.id, createdAt: digest.createdAt, created: true, status: digest.status, newPapers: fresh.length, updatedPapers };
      },
      { timeout: 60_000, isolationLevel: Prisma.TransactionIsolationLevel.ReadCommitted },
    );
  }

  private async upsertPaper(tx: Prisma.TransactionClient, p: PaperInput): Promise<StoredPaperRef> {
    const key = titleKey(p.title);
    const found =
      (p.arxivId ? await tx.paper.findUnique({ where: { arxivId: p.arxivId } }) : null) ??
      (await tx.paper.findUnique({ where: { titleKey: key } }));
    if (!found) {
      const created = await tx.paper.create({
        data: {
          arxivId: p.arxivId ?? null,
          titleKey: key,
          title: p.title,
          abstract: p.abstract,
          url: p.url ?? null,
          authors: p.authors ?? [],
          publishedAt: p.publishedAt ?? null,
          arxivVersion: p.arxivVersion ?? null,
          pdfUrl: p.pdfUrl ?? null,
          codeUrl: p.codeUrl ?? null,
          projectUrl: p.projectUrl ?? null,
          upvotes: p.upvotes ?? null,
          categories: p.categories ?? [],
        },
        select: { id: true },
      });
      return { paperId: created.id, created: true, updated: false, paper: p };
    }
    const patch: Prisma.PaperUpdateInput = {};
    if (!found.arxivId && p.arxivId) patch.arxivId = p.arxivId;
    if (!found.url && p.url) patch.url = p.url;
    if (found.authors.length === 0 && p.authors?.length) patch.authors = p.authors;
    if (!found.publishedAt && p.publishedAt) patch.publishedAt = p.publishedAt;
    Object.assign(patch, IngestionRepository.sourceFields(found, p));
    if (Object.keys(patch).length) await tx.paper.update({ where: { id: found.id }, data: { ...patch, updatedAt: new Date() } });
    return { paperId: found.id, created: false, updated: Object.keys(patch).length > 0, paper: p };
  }

  /**
   * What one source adds to a stored paper: links it lacked, the highest upvote count and arXiv
   * version seen, the union of categories. Never overwrites a value with a different one.
   */
  static sourceFields(
    found: { pdfUrl: string | null; codeUrl: string | null; projectUrl: string | null; upvotes: number | null; categories: string[]; arxivVersion: number | null },
    p: PaperInput,
  ): Prisma.PaperUpdateInput {
    const patch: Prisma.PaperUpdateInput = {};
    if (!found.pdfUrl && p.pdfUrl) patch.pdfUrl = p.pdfUrl;
    if (!found.codeUrl && p.codeUrl) patch.codeUrl = p.codeUrl;
    if (!found.projectUrl && p.projectUrl) patch.projectUrl = p.projectUrl;
    if (p.upvotes != null && p.upvotes > (found.upvotes ?? -1)) patch.upvotes = p.upvotes;
    if (p.arxivVersion != null && p.arxivVersion > (found.arxivVersion ?? 0)) patch.arxivVersion = p.arxivVersion;
    const extra = (p.categories ?? []).filter((c) => !found.categories.includes(c));
    if (extra.length) patch.categories = [...found.categories, ...extra];
    return patch;
  }

  /**
   * Applies arXiv replacements to papers already stored (by arXiv id): title, abstract, authors
   * and version when the version is newer. Unknown papers are not created: a replacement is not
   * news. Each revision is one transaction that locks the paper's row, so two replacements of one
   * paper apply in version order whatever order they arrive in, and `onRevised` updates the
   * collection statistics with the change of text in the same transaction. Returns how many
   * papers changed.
   */
  async revisePapers(revisions: PaperRevision[], onRevised: RevisedPaperHook): Promise<{ updated: number; skipped: number }> {
    let updated = 0;
    for (const r of revisions) {
      // A new title key that another paper takes meanwhile is refused by its unique index: run
      // again, the revision sees that paper and keeps the old key.
      if (await retryOnUniqueViolation(STORE_ATTEMPTS, ['paper_title_key_key'], () => this.reviseOnce(r, onRevised))) updated++;
    }
    return { updated, skipped: revisions.length - updated };
  }

  private reviseOnce(r: PaperRevision, onRevised: RevisedPaperHook): Promise<boolean> {
    return this.prisma.$transaction(
      async (tx) => {
        const locked = await tx.$queryRaw<{ id: number }[]>`SELECT id FROM paper WHERE arxiv_id = ${r.arxivId} FOR UPDATE`;
        if (locked.length === 0) return false;
        const found = await tx.paper.findUniqueOrThrow({ where: { id: locked[0].id } });
        if ((found.arxivVersion ?? 1) >= r.version) return false;
        const key = titleKey(r.title);
        // A new title takes the new title key unless another paper holds it.
        const keyTaken = key !== found.titleKey && (await tx.paper.findUnique({ where: { titleKey: key }, select: { id: true } }));
        const extra = r.categories.filter((c) => !found.categories.includes(c));
        await tx.paper.update({
          where: { id: found.id },
          data: {
            title: r.title,
            abstract: r.abstract,
            ...(keyTaken ? {} : { titleKey: key }),
            ...(r.authors.length ? { authors: r.authors } : {}),
            ...(extra.length ? { categories: [...found.categories, ...extra] } : {}),
            arxivVersion: r.version,
            updatedAt: new Date(),
          },
        });
        await onRevised(tx, { title: found.title, abstract: found.abstract }, { title: r.title, abstract: r.abstract });
        return true;
      },
      { timeout: 60_000, isolationLevel: Prisma.TransactionIsolationLevel.ReadCommitted },
    );
  }

  /** Digests whose pipeline has not finished (re-ingest re-queues their jobs). */
  async digestStatus(digestId: number): Promise<string | undefined> {
    return (await this.prisma.digest.findUnique({ where: { id: digestId }, select: { status: true } }))?.status;
  }
}
