import { Injectable } from '@nestjs/common';
import { DeliveryStatus, Prisma } from '../../generated/prisma/client';
import { PrismaService } from '../../infra/prisma/prisma.service';
import { carriedBy, seqWriterLock, undelivered } from '../../infra/prisma/match-ranges';
import { cadenceDue, cadenceIssueKey, DeliveryContent, matchedPapersJson, parsePapers } from '../../mailer/delivery.repository';

export interface SendScope {
  /** Only subscribers with undelivered matches from this digest; else everyone with undelivered matches. */
  digestId?: number;
  /** Everyone due: daily and weekly subscribers whose local send hour has come (what the cadence tick sends). */
  due?: boolean;
}

export interface DryRunRow {
  subscriberId: string;
  email: string;
  papers: number;
  paused: boolean;
}

export interface DeliveryLogFilter {
  status?: DeliveryStatus;
  /** Exact address. */
  subscriber?: string;
  issueKey?: string;
}

export interface DeliveryLogRow {
  id: number;
  email: string;
  subscriberId: string;
  issueKey: string;
  status: DeliveryStatus;
  attempts: number;
  paperCount: number;
  smtpResponse: string | null;
  lastError: string | null;
  createdAt: Date;
  sentAt: Date | null;
}

export interface IssueSummary {
  issueKey: string;
  startedAt: Date;
  counts: Record<string, number>;
}

/** Read models for "send now" (what would go, and to whom) and the delivery log. */
@Injectable()
export class AdminSendsRepository {
  constructor(private readonly prisma: PrismaService) {}

  /**
   * What ComposerService.sendNow would gather: active subscribers with undelivered matches (of the
   * digest, if given), each with the count of all their undelivered matches (compose attaches all).
   */
  dryRun(scope: SendScope, now = new Date()): Promise<DryRunRow[]> {
    if (scope.due) return this.dryRunDue(now);
    return this.prisma.$queryRaw<DryRunRow[]>`
      SELECT s.id AS "subscriberId", s.email, count(*)::int AS papers,
             (s.paused_until IS NOT NULL AND s.paused_until > now()) AS paused
      FROM subscriber s JOIN match m ON ${undelivered(Prisma.sql`s.id`)}
      WHERE s.status = 'active'
      GROUP BY s.id, s.email
      HAVING ${scope.digestId ?? null}::int IS NULL OR bool_or(m.digest_id = ${scope.digestId ?? null}::int)
      ORDER BY s.email`;
  }

  /** The same selection as DeliveryRepository.compose({ kind: 'due' }), minus issues already sent. */
  private dryRunDue(now: Date): Promise<DryRunRow[]> {
    return this.prisma.$queryRaw<DryRunRow[]>`
      WITH due AS (
        SELECT s.id, s.email, s.paused_until, ${cadenceIssueKey(now)} AS issue_key
        FROM subscriber s
        WHERE ${cadenceDue(now)})
      SELECT due.id AS "subscriberId", due.email, count(*)::int AS papers,
             (due.paused_until IS NOT NULL AND due.paused_until > now()) AS paused
      FROM due JOIN match m ON ${undelivered(Prisma.sql`due.id`)}
      WHERE NOT EXISTS (SELECT 1 FROM delivery d WHERE d.subscriber_id = due.id AND d.issue_key = due.issue_key AND d.status <> 'pending')
      GROUP BY due.id, due.email, due.paused_until
      ORDER BY due.email`;
  }

  /** The content a delivery composed now would carry for one subscriber (the same papers, in the same order, as an email). */
  async pendingContent(subscriberId: string): Promise<DeliveryContent | null> {
    const [s] = await this.prisma.$queryRaw<{ id: string; email: string; status: string; pausedUntil: Date | null; papers: string | null }[]>`
      SELECT s.id::text AS id, s.email, s.status::text AS status, s.paused_until AS "pausedUntil",
             ${matchedPapersJson(undelivered(Prisma.sql`s.id`))} AS papers
      FROM subscriber s WHERE s.id = ${subscriberId}::uuid`;
    if (!s) return null;
    return {
      id: 0,
      issueKey: 'preview',
      attempts: 0,
      subscriber: { id: s.id, email: s.email, status: s.status, pausedUntil: s.pausedUntil },
      papers: parsePapers(s.papers),
    };
  }

  async deliveryLog(filter: DeliveryLogFilter, limit: number, beforeId?: number): Promise<DeliveryLogRow[]> {
    const where: Prisma.Sql[] = [];
    if (filter.status) where.push(Prisma.sql`d.status = ${filter.status}::delivery_status`);
    if (filter.subscriber) where.push(Prisma.sql`d.subscriber_id = (SELECT id FROM subscriber WHERE email = ${filter.subscriber})`);
    if (filter.issueKey) where.push(Prisma.sql`d.issue_key = ${filter.issueKey}`);
    if (beforeId) where.push(Prisma.sql`d.id < ${beforeId}`);
    const cond = where.length ? Prisma.sql`WHERE ${Prisma.join(where, ' AND ')}` : Prisma.empty;
    return this.prisma.$queryRaw<DeliveryLogRow[]>`
      SELECT d.id, s.email, d.subscriber_id AS "subscriberId", d.issue_key AS "issueKey", d.status::text AS status, d.attempts,
             d.paper_count AS "paperCount", d.smtp_response AS "smtpResponse", d.last_error AS "lastError",
             d.created_at AS "createdAt", d.sent_at AS "sentAt"
      FROM delivery d JOIN subscriber s ON s.id = d.subscriber_id
      ${cond}
      ORDER BY d.id DESC LIMIT ${limit}`;
  }

  /** Issues started in the last 30 days, newest first, with their deliveries per status. */
  async recentIssues(limit = 20): Promise<IssueSummary[]> {
    const rows = await this.prisma.$queryRaw<{ issueKey: string; startedAt: Date; status: string; n: number }[]>`
      WITH recent AS (
        SELECT issue_key, min(created_at) AS started FROM delivery WHERE created_at > now() - interval '30 days'
        GROUP BY issue_key ORDER BY started DESC LIMIT ${limit})
      SELECT r.issue_key AS "issueKey", r.started AS "startedAt", d.status::text AS status, count(*)::int AS n
      FROM recent r JOIN delivery d ON d.issue_key = r.issue_key
      GROUP BY r.issue_key, r.started, d.status ORDER BY r.started DESC`;
    const byKey = new Map<string, IssueSummary>();
    for (const r of rows) {
      const s = byKey.get(r.issueKey) ?? { issueKey: r.issueKey, startedAt: r.startedAt, counts: {} };
      s.counts[r.status] = r.n;
      byKey.set(r.issueKey, s);
    }
    return [...byKey.values()];
  }

  /**
   * Cancels what of an issue has not gone yet: those deliveries become `skipped` (the sender's
   * claim only takes pending/retry ones), and their papers go back to the pool for a later email.
   */
  async cancelIssue(issueKey: string): Promise<number> {
    return this.prisma.$transaction(async (tx) => {
      // Papers go back to the pool by getting new seqs, above every delivery's range: a seq write,
      // so under the compose lock, shared (see match-ranges.ts).
      await tx.$queryRaw(seqWriterLock);
      const ids = await tx.$queryRaw<{ id: number }[]>`
        UPDATE delivery SET status = 'skipped', last_error = 'cancelled by an admin'
        WHERE issue_key = ${issueKey} AND status IN ('pending', 'retry') RETURNING id`;
      if (ids.length) {
        await tx.$executeRaw`
          UPDATE match m SET seq = nextval('match_seq_seq')
          FROM delivery d WHERE d.id = ANY(${ids.map((r) => r.id)}::int[]) AND ${carriedBy('d')}`;
      }
      return ids.length;
    });
  }
}
