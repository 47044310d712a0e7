import { Injectable } from '@nestjs/common';
import { PrismaService } from '../../infra/prisma/prisma.service';

export interface PullCounts {
  digests: number;
  newPapers: number;
  updatedPapers: number;
  skippedPapers: number;
}

export interface PullRecord extends PullCounts {
  id: number;
  source: string;
  trigger: string;
  attempt: number;
  rangeFrom: Date | null;
  rangeTo: Date | null;
  status: string;
  startedAt: Date;
  finishedAt: Date | null;
  error: string | null;
}

/** The record of every pull (one row per attempt), for `sources:status`. */
@Injectable()
export class SourcePullRepository {
  constructor(private readonly prisma: PrismaService) {}

  async start(p: { source: string; trigger: string; attempt: number; rangeFrom?: Date; rangeTo?: Date }): Promise<number> {
    const row = await this.prisma.sourcePull.create({
      data: { source: p.source, trigger: p.trigger, attempt: p.attempt, rangeFrom: p.rangeFrom ?? null, rangeTo: p.rangeTo ?? null },
      select: { id: true },
    });
    return row.id;
  }

  async finish(id: number, counts: PullCounts, error?: string): Promise<void> {
    await this.prisma.sourcePull.update({
      where: { id },
      data: { ...counts, status: error ? 'failed' : 'ok', error: error ?? null, finishedAt: new Date() },
    });
  }

  /** The latest pulls, newest first, optionally of one source. */
  recent(limit: number, source?: string): Promise<PullRecord[]> {
    return this.prisma.sourcePull.findMany({ where: source ? { source } : {}, orderBy: { id: 'desc' }, take: limit });
  }
}
