import { Injectable } from '@nestjs/common';
import { PrismaService } from '../../infra/prisma/prisma.service';

export interface DashboardData {
  days: string[];
  emailsByStatus: Record<string, number[]>;
  subscribersByDay: { day: string; total: number }[];
  statusCounts: Record<string, number>;
  topTopics: { query: string; subscribers: number }[];
  deliveries30d: { total: number; failed: number; bounced: number };
  unsubscribed30d: number;
}

/** Aggregates for the dashboard: every query is bounded by a date range on an indexed column. */
@Injectable()
export class DashboardRepository {
  constructor(private readonly prisma: PrismaService) {}

  async load(days = 30): Promise<DashboardData> {
    const start = new Date(Date.now() - (days - 1) * 86400_000);
    start.setUTCHours(0, 0, 0, 0);
    const dayList = Array.from({ length: days }, (_, i) => new Date(start.getTime() + i * 86400_000).toISOString().slice(0, 10));
    const index = new Map(dayList.map((d, i) => [d, i]));

    const [emails, created, before, statuses, topics, bounced, unsub] = await Promise.all([
      this.prisma.$queryRaw<{ day: string; status: string; n: number }[]>`
        SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, status::text AS status, count(*)::int AS n
        FROM delivery WHERE created_at >= ${start} GROUP BY 1, 2`,
      this.prisma.$queryRaw<{ day: string; n: number }[]>`
        SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, count(*)::int AS n
        FROM subscriber WHERE created_at >= ${start} GROUP BY 1`,
      this.prisma.$queryRaw<{ n: number }[]>`SELECT count(*)::int AS n FROM subscriber WHERE created_at < ${start}`,
      this.prisma.$queryRaw<{ status: string; n: number }[]>`SELECT status::text AS status, count(*)::int AS n FROM subscriber GROUP BY 1`,
      this.prisma.$queryRaw<{ query: string; subscribers: number }[]>`
        SELECT t.query, c.n AS subscribers FROM (
          SELECT topic_id, count(*)::int AS n FROM subscriber_topic GROUP BY topic_id ORDER BY n DESC LIMIT 10) c
        JOIN topic t ON t.id = c.topic_id ORDER BY c.n DESC, t.query`,
      this.prisma.$queryRaw<{ n: number }[]>`SELECT count(*)::int AS n FROM subscriber WHERE status = 'bounced' AND updated_at >= ${start}`,
      this.prisma.$queryRaw<{ n: number }[]>`SELECT count(*)::int AS n FROM subscriber WHERE status = 'unsubscribed' AND unsubscribed_at >= ${start}`,
    ]);

    const emailsByStatus: Record<string, number[]> = {};
    let total = 0;
    let failed = 0;
    for (const r of emails) {
      const i = index.get(r.day);
      if (i === undefined) continue;
      (emailsByStatus[r.status] ??= new Array(days).fill(0))[i] += r.n;
      total += r.n;
      if (r.status === 'failed') failed += r.n;
    }
    const perDay = new Array(days).fill(0);
    for (const r of created) {
      const i = index.get(r.day);
      if (i !== undefined) perDay[i] += r.n;
    }
    let running = before[0]?.n ?? 0;
    const subscribersByDay = dayList.map((day, i) => ({ day, total: (running += perDay[i]) }));
    return {
      days: dayList,
      emailsByStatus,
      subscribersByDay,
      statusCounts: Object.fromEntries(statuses.map((s) => [s.status, s.n])),
      topTopics: topics,
      deliveries30d: { total, failed, bounced: bounced[0]?.n ?? 0 },
      unsubscribed30d: unsub[0]?.n ?? 0,
    };
  }
}
