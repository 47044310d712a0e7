import { Injectable } from '@nestjs/common';
import { PrismaService } from '../infra/prisma/prisma.service';
import type { RowRef } from '../infra/queue/queues';

/** Finds work the queue may have lost (a Redis flush, a crash, retries exhausted on a dead worker). */
@Injectable()
export class ReconcilerRepository {
  constructor(private readonly prisma: PrismaService) {}

  /**
   * Deliveries claimed but never finished: the worker died between claim and record, so SMTP may
   * or may not have accepted the message. Policy: never resend blindly; mark them `unknown`
   * for an admin to look at (and resend with `deliveries:retry --status unknown` if wanted).
   */
  async markStuckSendingUnknown(claimedBefore: Date): Promise<number[]> {
    const rows = await this.prisma.$queryRaw<{ id: number }[]>`
      UPDATE delivery SET status = 'unknown',
        last_error = 'claimed by a worker that stopped before recording the SMTP outcome; not resent automatically'
      WHERE status = 'sending' AND claimed_at < ${claimedBefore}
      RETURNING id`;
    return rows.map((r) => r.id);
  }

  /** Pending or retrying deliveries older than the cutoff, whose job may be gone. */
  async staleQueued(before: Date, limit: number): Promise<RowRef[]> {
    return this.prisma.$queryRaw<RowRef[]>`
      SELECT id, created_at AS "createdAt" FROM delivery
      WHERE (status = 'pending' AND created_at < ${before}) OR (status = 'retry' AND claimed_at < ${before})
      ORDER BY id LIMIT ${limit}`;
  }

  /** Digests whose matching or composing never finished. */
  async staleDigests(before: Date): Promise<{ ingested: RowRef[]; matched: RowRef[] }> {
    const rows = await this.prisma.digest.findMany({
      where: { status: { in: ['ingested', 'matched'] }, createdAt: { lt: before } },
      select: { id: true, createdAt: true, status: true },
      take: 1000,
    });
    return {
      ingested: rows.filter((r) => r.status === 'ingested'),
      matched: rows.filter((r) => r.status === 'matched'),
    };
  }

  /** Puts deliveries in the given final states back in the queue (an admin's decision). */
  async reopen(status: 'failed' | 'unknown', ids?: number[]): Promise<RowRef[]> {
    return this.prisma.$queryRaw<RowRef[]>`
      UPDATE delivery SET status = 'retry', last_error = ${`reopened from ${status}`}
      WHERE status = ${status}::delivery_status AND (${ids ?? null}::int[] IS NULL OR id = ANY(${ids ?? null}::int[]))
      RETURNING id, created_at AS "createdAt"`;
  }
}
