import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { Prisma } from '../generated/prisma/client';
import { PrismaService } from '../infra/prisma/prisma.service';
import { DigestInput, PaperInput } from './digest.types';
import { titleKey } from './parsers/paper-identity';

export interface StoredPaperRef {
  paperId: number;
  created: boolean;
  paper: PaperInput;
}

/** What the stats updater needs to know about papers stored for the first time. */
export type NewPaperHook = (tx: Prisma.TransactionClient, papers: { id: number; paper: PaperInput }[]) => Promise<void>;

export interface StoreDigestResult {
  digestId: number;
  createdAt: Date;
  created: boolean;
  status: string;
  newPapers: number;
}

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
    const hash = IngestionRepository.contentHash(d);
    const existing = await this.prisma.digest.findUnique({ where: { contentHash: hash }, select: { id: true, status: true, createdAt: true } });
    if (existing) return { digestId: existing.id, createdAt: existing.createdAt, created: false, status: existing.status, newPapers: 0 };

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
        return { digestId: digest.id, createdAt: digest.createdAt, created: true, status: digest.status, newPapers: fresh.length };
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
        },
        select: { id: true },
      });
      return { paperId: created.id, created: true, paper: p };
    }
    const patch: Prisma.PaperUpdateInput = {};
    if (!found.arxivId && p.arxivId) patch.arxivId = p.arxivId;
    if (!found.url && p.url) patch.url = p.url;
    if (found.authors.length === 0 && p.authors?.length) patch.authors = p.authors;
    if (!found.publishedAt && p.publishedAt) patch.publishedAt = p.publishedAt;
    if (Object.keys(patch).length) await tx.paper.update({ where: { id: found.id }, data: patch });
    return { paperId: found.id, created: false, paper: p };
  }

  /** Digests whose pipeline has not finished (re-ingest re-queues their jobs). */
  async digestStatus(digestId: number): Promise<string | undefined> {
    return (await this.prisma.digest.findUnique({ where: { id: digestId }, select: { status: true } }))?.status;
  }
}
