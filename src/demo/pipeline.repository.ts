import { Injectable } from '@nestjs/common';
import { PrismaService } from '../infra/prisma/prisma.service';

export interface PipelineTotals {
  digests: number;
  papers: number;
  subscribers: number;
  matches: number;
}

/** Read-only views of pipeline progress, for waiting on it from the CLI and for summaries. */
@Injectable()
export class PipelineRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** True once every given digest is composed and no delivery is waiting, sending or retrying. */
  async settled(digestIds: number[]): Promise<boolean> {
    const open = await this.prisma.digest.count({ where: { id: { in: digestIds }, status: { not: 'composed' } } });
    if (open) return false;
    const inFlight = await this.prisma.delivery.count({ where: { status: { in: ['pending', 'sending', 'retry'] } } });
    return inFlight === 0;
  }

  async totals(): Promise<PipelineTotals> {
    const [digests, papers, subscribers, matches] = await Promise.all([
      this.prisma.digest.count(),
      this.prisma.paper.count(),
      this.prisma.subscriber.count({ where: { status: 'active' } }),
      this.prisma.match.count(),
    ]);
    return { digests, papers, subscribers, matches };
  }

  /** Deliveries that reached a final state since `since`, by status. */
  async outcomesSince(since: Date): Promise<Record<string, number>> {
    const rows = await this.prisma.delivery.groupBy({
      by: ['status'],
      where: { OR: [{ sentAt: { gte: since } }, { createdAt: { gte: since } }], status: { in: ['sent', 'failed', 'skipped', 'unknown'] } },
      _count: { _all: true },
    });
    return Object.fromEntries(rows.map((r) => [r.status, r._count._all]));
  }

  /** Per subscriber (address, topics): how many emails since `since`, and how many papers they carried. */
  async recipientsSince(since: Date): Promise<{ email: string; emails: number; papers: number; topics: string[] }[]> {
    return this.prisma.$queryRaw<{ email: string; emails: number; papers: number; topics: string[] }[]>`
      SELECT s.email, count(*)::int AS emails, sum(d.paper_count)::int AS papers,
             ARRAY(SELECT st.label FROM subscriber_topic st WHERE st.subscriber_id = s.id ORDER BY st.created_at, st.label) AS topics
      FROM delivery d JOIN subscriber s ON s.id = d.subscriber_id
      WHERE d.status = 'sent' AND d.sent_at >= ${since}
      GROUP BY s.id, s.email
      ORDER BY s.email`;
  }
}
