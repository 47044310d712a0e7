import { Injectable } from '@nestjs/common';
import { DeliveryStatus } from '../generated/prisma/client';
import { PrismaService } from '../infra/prisma/prisma.service';
import type { RowRef } from '../infra/queue/queues';

export interface DeliveryContent {
  id: number;
  issueKey: string;
  attempts: number;
  subscriber: { id: string; email: string; status: string };
  papers: {
    title: string;
    abstract: string;
    url: string | null;
    arxivId: string | null;
    authors: string[];
    digestDate: Date;
    score: number;
    why: string;
    topics: string[];
  }[];
}

/** Which subscribers a compose gathers matches for. */
export type ComposeScope = { kind: 'instant' } | { kind: 'all' };

@Injectable()
export class DeliveryRepository {
  constructor(private readonly prisma: PrismaService) {}

  /**
   * Creates one delivery per subscriber with undelivered matches (unique per subscriber and
   * issue) and attaches those matches to it, in one transaction. Returns every delivery of the
   * issue still waiting to be sent, so a repeated compose re-queues rather than duplicates.
   */
  async compose(issueKey: string, scope: ComposeScope): Promise<RowRef[]> {
    const frequencyFilter = scope.kind === 'instant' ? 'instant' : null;
    return this.prisma.$transaction(async (tx) => {
      await tx.$executeRaw`
        INSERT INTO delivery (subscriber_id, issue_key, paper_count)
        SELECT m.subscriber_id, ${issueKey}, count(*)
        FROM match m JOIN subscriber s ON s.id = m.subscriber_id
        WHERE m.delivery_id IS NULL AND s.status = 'active'
          AND (${frequencyFilter}::text IS NULL OR s.frequency::text = ${frequencyFilter}::text)
        GROUP BY m.subscriber_id
        ON CONFLICT (subscriber_id, issue_key) DO NOTHING`;
      await tx.$executeRaw`
        UPDATE match m SET delivery_id = d.id
        FROM delivery d
        WHERE d.issue_key = ${issueKey} AND d.status = 'pending'
          AND m.subscriber_id = d.subscriber_id AND m.delivery_id IS NULL`;
      await tx.$executeRaw`
        UPDATE delivery d SET paper_count = c.n
        FROM (SELECT delivery_id, count(*)::int AS n FROM match WHERE delivery_id IS NOT NULL GROUP BY delivery_id) c
        WHERE d.issue_key = ${issueKey} AND d.status = 'pending' AND c.delivery_id = d.id`;
      return tx.delivery.findMany({ where: { issueKey, status: 'pending' }, select: { id: true, createdAt: true }, orderBy: { id: 'asc' } });
    });
  }

  /**
   * The conditional claim: only one worker can move a delivery from pending/retry to sending.
   * BullMQ may run a job twice; the database decides who sends.
   */
  async claim(id: number): Promise<boolean> {
    const n = await this.prisma.$executeRaw`
      UPDATE delivery SET status = 'sending', attempts = attempts + 1, claimed_at = now()
      WHERE id = ${id} AND status IN ('pending', 'retry')`;
    return n === 1;
  }

  async content(id: number): Promise<DeliveryContent | undefined> {
    const d = await this.prisma.delivery.findUnique({
      where: { id },
      select: {
        id: true,
        issueKey: true,
        attempts: true,
        subscriber: { select: { id: true, email: true, status: true } },
        matches: {
          orderBy: [{ score: 'desc' }, { paperId: 'asc' }],
          select: {
            score: true,
            why: true,
            topics: true,
            digest: { select: { digestDate: true } },
            paper: { select: { title: true, abstract: true, url: true, arxivId: true, authors: true } },
          },
        },
      },
    });
    if (!d) return undefined;
    return {
      id: d.id,
      issueKey: d.issueKey,
      attempts: d.attempts,
      subscriber: d.subscriber,
      papers: d.matches.map((m) => ({ ...m.paper, digestDate: m.digest.digestDate, score: m.score, why: m.why, topics: m.topics })),
    };
  }

  async finish(id: number, status: DeliveryStatus, fields: { messageId?: string; smtpResponse?: string; lastError?: string } = {}): Promise<void> {
    await this.prisma.delivery.update({
      where: { id },
      data: { status, ...fields, sentAt: status === 'sent' ? new Date() : undefined },
    });
  }

  /** Deliveries of the given statuses (for the demo's wait and summaries). */
  async countByStatus(): Promise<Record<string, number>> {
    const rows = await this.prisma.delivery.groupBy({ by: ['status'], _count: { _all: true } });
    return Object.fromEntries(rows.map((r) => [r.status, r._count._all]));
  }

  /** A permanent SMTP rejection (5xx) suppresses the address: nothing more is sent to it. */
  async suppressSubscriber(subscriberId: string): Promise<void> {
    await this.prisma.subscriber.updateMany({ where: { id: subscriberId, status: 'active' }, data: { status: 'bounced' } });
  }

  async markDigestComposed(digestId: number): Promise<void> {
    await this.prisma.digest.updateMany({ where: { id: digestId, status: 'matched' }, data: { status: 'composed' } });
  }
}
