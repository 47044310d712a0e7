import { Injectable } from '@nestjs/common';
import { DeliveryStatus } from '../generated/prisma/client';
import { PrismaService } from '../infra/prisma/prisma.service';
import type { RowRef } from '../infra/queue/queues';

export interface DeliveryContent {
  id: number;
  issueKey: string;
  attempts: number;
  subscriber: { id: string; email: string; status: string; pausedUntil: Date | null };
  papers: {
    title: string;
    abstract: string;
    url: string | null;
    arxivId: string | null;
    authors: string[];
    pdfUrl: string | null;
    codeUrl: string | null;
    projectUrl: string | null;
    upvotes: number | null;
    digestDate: Date;
    score: number;
    why: string;
    topics: string[];
  }[];
}

/**
 * Which subscribers a compose gathers undelivered matches for, and under which issue key (the
 * delivery is unique per subscriber and issue key, so composing twice never duplicates):
 * - `digest`: instant subscribers, after a digest was matched (key `digest-<id>`);
 * - `due`: daily and weekly subscribers whose local send hour (in their IANA time zone) has come
 *   at `now` (key `daily-YYYY-MM-DD` / `weekly-YYYY-Www` of their local calendar);
 * - `now`: an admin's "send now" to everyone, one subscriber, or the subscribers of one digest.
 */
export type ComposeScope =
  | { kind: 'digest'; digestId: number }
  | { kind: 'due'; now: Date }
  | { kind: 'now'; issueKey: string; subscriberId?: string; digestId?: number };

/** Best first: the order papers appear in an email. */
export const MATCH_ORDER = [{ score: 'desc' as const }, { paperId: 'asc' as const }];

/** What an email shows of each matched paper (also used by the admin's preview of unsent matches). */
export const MATCH_CONTENT_SELECT = {
  score: true,
  why: true,
  topics: true,
  digest: { select: { digestDate: true } },
  paper: {
    select: { title: true, abstract: true, url: true, arxivId: true, authors: true, pdfUrl: true, codeUrl: true, projectUrl: true, upvotes: true },
  },
} as const;

@Injectable()
export class DeliveryRepository {
  constructor(private readonly prisma: PrismaService) {}

  /**
   * Creates one delivery per due subscriber with undelivered matches and attaches those matches
   * to it, in one transaction of set-based statements (cost grows with matches, not with a loop
   * over subscribers). Returns every pending delivery of the scope's issues, so a repeated
   * compose re-queues rather than duplicates.
   */
  async compose(scope: ComposeScope): Promise<RowRef[]> {
    return this.prisma.$transaction(
      async (tx) => {
        await tx.$executeRaw`CREATE TEMP TABLE due (subscriber_id uuid PRIMARY KEY, issue_key text NOT NULL) ON COMMIT DROP`;
        if (scope.kind === 'digest') {
          await tx.$executeRaw`
            INSERT INTO due
            SELECT DISTINCT m.subscriber_id, ${`digest-${scope.digestId}`}
            FROM match m JOIN subscriber s ON s.id = m.subscriber_id
            WHERE m.digest_id = ${scope.digestId} AND m.delivery_id IS NULL AND s.status = 'active' AND s.frequency = 'instant'`;
        } else if (scope.kind === 'due') {
          await tx.$executeRaw`
            INSERT INTO due
            SELECT s.id,
                   CASE s.frequency
                     WHEN 'daily' THEN 'daily-' || to_char(${scope.now}::timestamptz AT TIME ZONE s.timezone, 'YYYY-MM-DD')
                     ELSE 'weekly-' || to_char(${scope.now}::timestamptz AT TIME ZONE s.timezone, 'IYYY-"W"IW')
                   END
            FROM subscriber s
            WHERE s.status = 'active' AND s.frequency IN ('daily', 'weekly')
              AND extract(hour FROM ${scope.now}::timestamptz AT TIME ZONE s.timezone) >= s.send_hour
              AND (s.frequency = 'daily' OR extract(isodow FROM ${scope.now}::timestamptz AT TIME ZONE s.timezone) = s.send_weekday)
              AND EXISTS (SELECT 1 FROM match m WHERE m.subscriber_id = s.id AND m.delivery_id IS NULL)`;
        } else {
          await tx.$executeRaw`
            INSERT INTO due
            SELECT DISTINCT m.subscriber_id, ${scope.issueKey}
            FROM match m JOIN subscriber s ON s.id = m.subscriber_id
            WHERE m.delivery_id IS NULL AND s.status = 'active'
              AND (${scope.subscriberId ?? null}::uuid IS NULL OR m.subscriber_id = ${scope.subscriberId ?? null}::uuid)
              AND (${scope.digestId ?? null}::int IS NULL OR m.digest_id = ${scope.digestId ?? null}::int)`;
        }
        await tx.$executeRaw`
          INSERT INTO delivery (subscriber_id, issue_key, paper_count)
          SELECT subscriber_id, issue_key, 0 FROM due
          ON CONFLICT (subscriber_id, issue_key) DO NOTHING`;
        // Attach to the issue's delivery while it is still pending; once it has gone out, new
        // matches wait for the subscriber's next issue.
        await tx.$executeRaw`
          UPDATE match m SET delivery_id = d.id
          FROM due JOIN delivery d ON d.subscriber_id = due.subscriber_id AND d.issue_key = due.issue_key AND d.status = 'pending'
          WHERE m.subscriber_id = d.subscriber_id AND m.delivery_id IS NULL`;
        const pending = await tx.$queryRaw<{ id: number; createdAt: Date }[]>`
          UPDATE delivery d SET paper_count = (SELECT count(*) FROM match m WHERE m.delivery_id = d.id)
          FROM due WHERE d.subscriber_id = due.subscriber_id AND d.issue_key = due.issue_key AND d.status = 'pending'
          RETURNING d.id, d.created_at AS "createdAt"`;
        return pending.sort((a, b) => a.id - b.id);
      },
      { timeout: 120_000 },
    );
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
        subscriber: { select: { id: true, email: true, status: true, pausedUntil: true } },
        matches: { orderBy: MATCH_ORDER, select: MATCH_CONTENT_SELECT },
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

  /** Sent: record it, and a successful delivery ends a run of soft bounces. */
  async finishSent(id: number, subscriberId: string, fields: { messageId: string; smtpResponse: string }): Promise<void> {
    await this.finish(id, 'sent', fields);
    await this.prisma.subscriber.updateMany({ where: { id: subscriberId, softBounces: { gt: 0 } }, data: { softBounces: 0 } });
  }

  /** Counts one more soft bounce (a delivery that failed on temporary errors); returns the run length. */
  async countSoftBounce(subscriberId: string): Promise<number> {
    const s = await this.prisma.subscriber.update({ where: { id: subscriberId }, data: { softBounces: { increment: 1 } }, select: { softBounces: true } });
    return s.softBounces;
  }

  /**
   * A bounce or complaint reported by the mail provider. Hard bounces suppress the address,
   * complaints unsubscribe it, soft bounces count towards the limit. Returns whether it matched
   * a subscriber and whether the address is now suppressed.
   */
  async applyBounce(email: string, type: 'hard' | 'soft' | 'complaint', softLimit: number): Promise<{ known: boolean; suppressed: boolean }> {
    const rows =
      type === 'hard'
        ? await this.prisma.$queryRaw<{ status: string }[]>`
            UPDATE subscriber SET status = CASE WHEN status = 'active' THEN 'bounced'::subscriber_status ELSE status END
            WHERE email = ${email} RETURNING status::text`
        : type === 'complaint'
          ? await this.prisma.$queryRaw<{ status: string }[]>`
            UPDATE subscriber SET status = CASE WHEN status IN ('active', 'pending') THEN 'unsubscribed'::subscriber_status ELSE status END,
              unsubscribed_at = coalesce(unsubscribed_at, now())
            WHERE email = ${email} RETURNING status::text`
          : await this.prisma.$queryRaw<{ status: string }[]>`
            UPDATE subscriber SET soft_bounces = soft_bounces + 1,
              status = CASE WHEN status = 'active' AND soft_bounces + 1 >= ${softLimit} THEN 'bounced'::subscriber_status ELSE status END
            WHERE email = ${email} RETURNING status::text`;
    if (rows.length === 0) return { known: false, suppressed: false };
    return { known: true, suppressed: rows[0].status !== 'active' };
  }

  /** A permanent SMTP rejection (5xx) suppresses the address: nothing more is sent to it. */
  async suppressSubscriber(subscriberId: string): Promise<void> {
    await this.prisma.subscriber.updateMany({ where: { id: subscriberId, status: 'active' }, data: { status: 'bounced' } });
  }

  async markDigestComposed(digestId: number): Promise<void> {
    await this.prisma.digest.updateMany({ where: { id: digestId, status: 'matched' }, data: { status: 'composed' } });
  }
}
