import { Injectable } from '@nestjs/common';
import { Frequency, Prisma, SubscriberStatus } from '../../generated/prisma/client';
import { PrismaService } from '../../infra/prisma/prisma.service';
import { carriedBy } from '../../infra/prisma/match-ranges';

export const SORTS = ['created_desc', 'created_asc', 'email_asc', 'email_desc'] as const;
export type SubscriberSort = (typeof SORTS)[number];

export interface SubscriberFilter {
  /** Substring of the address (pg_trgm index). */
  q?: string;
  /** Substring of an alert's text (searched over distinct topics, then fanned out through subscriber_topic). */
  topic?: string;
  status?: SubscriberStatus;
  frequency?: Frequency;
}

/** Keyset position: the sort value and the id of the last row of the previous page. */
export interface Cursor {
  v: string;
  id: string;
}

export interface SubscriberRow {
  id: string;
  email: string;
  status: SubscriberStatus;
  frequency: Frequency;
  createdAt: Date;
  confirmedAt: Date | null;
  timezone: string;
  topics: string[];
}

const like = (s: string) => `%${s.replace(/[\\%_]/g, (c) => '\\' + c)}%`;

/**
 * The admin's subscriber list. Keyset pagination (never OFFSET): each page is an index range
 * scan from the previous page's last row, as fast on page 20,000 as on page 1 (docs/admin.md).
 */
@Injectable()
export class AdminSubscribersRepository {
  constructor(private readonly prisma: PrismaService) {}

  async list(filter: SubscriberFilter, sort: SubscriberSort, limit: number, after?: Cursor): Promise<SubscriberRow[]> {
    const where: Prisma.Sql[] = [];
    if (filter.q) where.push(Prisma.sql`s.email ILIKE ${like(filter.q)}`);
    if (filter.status) where.push(Prisma.sql`s.status = ${filter.status}::subscriber_status`);
    if (filter.frequency) where.push(Prisma.sql`s.frequency = ${filter.frequency}::frequency`);
    if (filter.topic)
      where.push(Prisma.sql`s.id IN (SELECT st.subscriber_id FROM subscriber_topic st JOIN topic t ON t.id = st.topic_id WHERE t.query ILIKE ${like(filter.topic)})`);
    const byEmail = sort.startsWith('email');
    const desc = sort.endsWith('desc');
    if (after) {
      const op = Prisma.raw(desc ? '<' : '>');
      where.push(
        byEmail
          ? Prisma.sql`s.email ${op} ${after.v}`
          : Prisma.sql`(s.created_at, s.id) ${op} (${new Date(after.v)}::timestamptz, ${after.id}::uuid)`,
      );
    }
    const dir = Prisma.raw(desc ? 'DESC' : 'ASC');
    const order = byEmail ? Prisma.sql`s.email ${dir}` : Prisma.sql`s.created_at ${dir}, s.id ${dir}`;
    const cond = where.length ? Prisma.sql`WHERE ${Prisma.join(where, ' AND ')}` : Prisma.empty;
    return this.prisma.$queryRaw<SubscriberRow[]>`
      SELECT s.id, s.email, s.status::text AS status, s.frequency::text AS frequency, s.created_at AS "createdAt",
             s.confirmed_at AS "confirmedAt", s.timezone,
             ARRAY(SELECT st.label FROM subscriber_topic st WHERE st.subscriber_id = s.id ORDER BY st.created_at, st.label) AS topics
      FROM subscriber s ${cond}
      ORDER BY ${order}
      LIMIT ${limit}`;
  }

  /** The planner's row estimate (an exact count(*) over a million rows costs more than the page). */
  async estimatedTotal(): Promise<number> {
    const r = await this.prisma.$queryRaw<{ n: number }[]>`SELECT greatest(reltuples, 0)::int AS n FROM pg_class WHERE relname = 'subscriber'`;
    return r[0]?.n ?? 0;
  }

  async detail(id: string) {
    const s = await this.prisma.subscriber.findUnique({
      where: { id },
      select: {
        id: true,
        email: true,
        status: true,
        frequency: true,
        timezone: true,
        sendHour: true,
        sendWeekday: true,
        softBounces: true,
        createdAt: true,
        confirmedAt: true,
        unsubscribedAt: true,
        consentSource: true,
        pausedUntil: true,
        topics: { select: { label: true, topic: { select: { query: true } } }, orderBy: { createdAt: 'asc' } },
        consents: { select: { action: true, topics: true, source: true, formVersion: true, ip: true, requestedAt: true, createdAt: true }, orderBy: { id: 'desc' }, take: 50 },
      },
    });
    if (!s) return null;
    const [deliveries, matches] = await Promise.all([
      this.prisma.delivery.findMany({
        where: { subscriberId: id },
        select: { id: true, issueKey: true, status: true, attempts: true, paperCount: true, smtpResponse: true, lastError: true, createdAt: true, sentAt: true },
        orderBy: { id: 'desc' },
        take: 50,
      }),
      // The delivery that carries each match, if any (the one whose seq range holds it).
      this.prisma.$queryRaw<{ score: number; why: string; topics: string[]; deliveryId: number | null; createdAt: Date; digestId: number; paperId: number; title: string; url: string | null; arxivId: string | null }[]>`
        SELECT m.score, m.why, m.topics, m.created_at AS "createdAt", m.digest_id AS "digestId",
               p.id AS "paperId", p.title, p.url, p.arxiv_id AS "arxivId",
               (SELECT d.id FROM delivery d WHERE ${carriedBy('d')} LIMIT 1) AS "deliveryId"
        FROM match m JOIN paper p ON p.id = m.paper_id
        WHERE m.subscriber_id = ${id}::uuid
        ORDER BY m.created_at DESC, m.seq DESC LIMIT 50`,
    ]);
    return {
      ...s,
      deliveries,
      matches: matches.map(({ paperId, title, url, arxivId, ...m }) => ({ ...m, paper: { id: paperId, title, url, arxivId } })),
    };
  }

  /** New frequency and topics (shared Topic rows by normalised query), with a consent record, in one transaction. */
  async update(id: string, frequency: Frequency, topics: { label: string; query: string }[]): Promise<boolean> {
    return this.prisma.$transaction(async (tx) => {
      const n = await tx.subscriber.updateMany({ where: { id }, data: { frequency } });
      if (!n.count) return false;
      const ids: { id: number; label: string }[] = [];
      for (const t of topics) {
        const topic = await tx.topic.upsert({ where: { query: t.query }, create: { query: t.query }, update: {}, select: { id: true } });
        ids.push({ id: topic.id, label: t.label });
      }
      await tx.subscriberTopic.deleteMany({ where: { subscriberId: id, topicId: { notIn: ids.map((t) => t.id) } } });
      for (const t of ids)
        await tx.subscriberTopic.upsert({
          where: { subscriberId_topicId: { subscriberId: id, topicId: t.id } },
          create: { subscriberId: id, topicId: t.id, label: t.label },
          update: { label: t.label },
        });
      await tx.consentRecord.create({ data: { subscriberId: id, action: 'updated', topics: topics.map((t) => t.label), source: 'admin' } });
      return true;
    });
  }

  /** suspend: active → suspended; resume: suspended → active. False when the subscriber is not in the from-state. */
  async setStatus(id: string, from: SubscriberStatus, to: SubscriberStatus): Promise<boolean> {
    return (await this.prisma.subscriber.updateMany({ where: { id, status: from }, data: { status: to } })).count > 0;
  }

  async unsubscribe(id: string): Promise<boolean> {
    return this.prisma.$transaction(async (tx) => {
      const n = await tx.subscriber.updateMany({ where: { id, status: { not: 'unsubscribed' } }, data: { status: 'unsubscribed', unsubscribedAt: new Date() } });
      if (n.count) await tx.consentRecord.create({ data: { subscriberId: id, action: 'unsubscribed', topics: [], source: 'admin' } });
      return n.count > 0;
    });
  }
}
