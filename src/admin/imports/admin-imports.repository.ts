import { Injectable } from '@nestjs/common';
import { Frequency, Prisma } from '../../generated/prisma/client';
import { PrismaService } from '../../infra/prisma/prisma.service';

export interface ImportRow {
  line: number;
  email: string;
  topics: { label: string; query: string }[];
  frequency: Frequency;
}

export interface ImportReport {
  records: number;
  valid: number;
  invalid: { line: number; reason: string }[];
  duplicates: { line: number; reason: string }[];
}

export type ImportMode = 'confirmed' | 'opt-in';

@Injectable()
export class AdminImportsRepository {
  constructor(private readonly prisma: PrismaService) {}

  async existingEmails(emails: string[]): Promise<Set<string>> {
    const rows = await this.prisma.subscriber.findMany({ where: { email: { in: emails } }, select: { email: true } });
    return new Set(rows.map((r) => r.email));
  }

  async suppressedHashes(hashes: string[]): Promise<Set<string>> {
    const rows = await this.prisma.suppression.findMany({ where: { emailHash: { in: hashes } }, select: { emailHash: true } });
    return new Set(rows.map((r) => r.emailHash));
  }

  async create(adminId: number, mode: ImportMode, consentNote: string | null, rows: ImportRow[], report: ImportReport): Promise<string> {
    const r = await this.prisma.adminImport.create({
      data: { adminId, mode, consentNote, rows: rows as unknown as Prisma.InputJsonValue, total: rows.length, report: report as unknown as Prisma.InputJsonValue },
      select: { id: true },
    });
    return r.id;
  }

  get(id: string) {
    return this.prisma.adminImport.findUnique({ where: { id } });
  }

  /** Only a checked import starts, once. */
  async claim(id: string): Promise<boolean> {
    return (await this.prisma.adminImport.updateMany({ where: { id, status: 'checked' }, data: { status: 'running' } })).count > 0;
  }

  /**
   * Confirmed mode: new subscribers, active, with the admin's consent statement recorded; an
   * address that appeared meanwhile is left alone. Returns how many were created.
   */
  async importConfirmed(rows: ImportRow[], consentNote: string): Promise<number> {
    return this.prisma.$transaction(
      async (tx) => {
        let created = 0;
        const now = new Date();
        for (const r of rows) {
          const ins = await tx.$queryRaw<{ id: string }[]>`
            INSERT INTO subscriber (id, email, status, frequency, consent_source, confirmed_at, updated_at)
            VALUES (gen_random_uuid(), ${r.email}, 'active', ${r.frequency}::frequency, ${`admin-import: ${consentNote}`.slice(0, 500)}, ${now}, ${now})
            ON CONFLICT (email) DO NOTHING RETURNING id`;
          if (!ins.length) continue;
          created++;
          for (const t of r.topics) {
            const topic = await tx.topic.upsert({ where: { query: t.query }, create: { query: t.query }, update: {}, select: { id: true } });
            await tx.subscriberTopic.create({ data: { subscriberId: ins[0].id, topicId: topic.id, label: t.label } });
          }
          await tx.consentRecord.create({ data: { subscriberId: ins[0].id, action: 'confirmed', topics: r.topics.map((t) => t.label), source: 'admin-import', formVersion: consentNote.slice(0, 500) } });
        }
        return created;
      },
      { timeout: 60_000 },
    );
  }

  /** Opt-in mode: one subscription request per address, as if it had used the form; the worker sends the confirmation. */
  async createRequests(rows: ImportRow[]): Promise<string[]> {
    const out: string[] = [];
    await this.prisma.$transaction(async (tx) => {
      for (const r of rows) {
        const req = await tx.subscriptionRequest.create({
          data: { email: r.email, topics: r.topics.map((t) => t.label), frequency: r.frequency, timezone: 'UTC', sendHour: 8, source: 'admin-import', formVersion: 'admin-import' },
          select: { id: true },
        });
        out.push(req.id);
      }
    });
    return out;
  }

  async progress(id: string, processed: number, imported: number): Promise<void> {
    await this.prisma.adminImport.update({ where: { id }, data: { processed, imported } });
  }

  /** Done: the addresses are dropped from the import row (only counts and the report stay). */
  async finish(id: string): Promise<void> {
    await this.prisma.adminImport.update({ where: { id }, data: { status: 'done', rows: [], finishedAt: new Date() } });
  }
}
