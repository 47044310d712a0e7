import { Injectable } from '@nestjs/common';
import { Frequency, SubscriberStatus } from '../generated/prisma/client';
import { seqWriterLock } from '../infra/prisma/match-ranges';
import { PrismaService } from '../infra/prisma/prisma.service';

export interface SubscriberUpsert {
  email: string;
  topics: { query: string; label: string }[];
  frequency: Frequency;
  status: SubscriberStatus;
  consentSource: string;
  timezone?: string;
  sendHour?: number;
}

@Injectable()
export class SubscribersRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** Creates or updates a subscriber and replaces its topics, sharing Topic rows by query. */
  async upsertWithTopics(s: SubscriberUpsert): Promise<{ id: string; created: boolean }> {
    return this.prisma.$transaction(async (tx) => {
      const before = await tx.subscriber.findUnique({ where: { email: s.email }, select: { id: true } });
      const now = new Date();
      const sub = await tx.subscriber.upsert({
        where: { email: s.email },
        create: {
          email: s.email,
          status: s.status,
          frequency: s.frequency,
          timezone: s.timezone ?? 'UTC',
          sendHour: s.sendHour ?? 8,
          consentSource: s.consentSource,
          confirmedAt: s.status === 'active' ? now : null,
        },
        update: { frequency: s.frequency, timezone: s.timezone, sendHour: s.sendHour },
        select: { id: true },
      });
      const topicIds: { id: number; label: string }[] = [];
      for (const t of s.topics) {
        const topic = await tx.topic.upsert({ where: { query: t.query }, create: { query: t.query }, update: {}, select: { id: true } });
        topicIds.push({ id: topic.id, label: t.label });
      }
      await tx.subscriberTopic.deleteMany({ where: { subscriberId: sub.id, topicId: { notIn: topicIds.map((t) => t.id) } } });
      await tx.subscriberTopic.createMany({
        data: topicIds.map((t) => ({ subscriberId: sub.id, topicId: t.id, label: t.label })),
        skipDuplicates: true,
      });
      return { id: sub.id, created: !before };
    });
  }

  /** Idempotent; returns false when there is no such subscriber. */
  async unsubscribe(id: string): Promise<boolean> {
    const r = await this.prisma.subscriber.updateMany({
      where: { id, status: { not: 'unsubscribed' } },
      data: { status: 'unsubscribed', unsubscribedAt: new Date() },
    });
    if (r.count) return true;
    return (await this.prisma.subscriber.count({ where: { id } })) > 0;
  }

  async idByEmail(email: string): Promise<string | undefined> {
    return (await this.prisma.subscriber.findUnique({ where: { email }, select: { id: true } }))?.id;
  }

  async isSuppressed(emailHash: string): Promise<boolean> {
    return (await this.prisma.suppression.count({ where: { emailHash } })) > 0;
  }

  async count(): Promise<number> {
    return this.prisma.subscriber.count();
  }

  /**
   * Erasure (self-service and admin): the subscriber and everything hanging off it (topics,
   * matches, deliveries, consent) and every request made for the address go; only the keyed hash
   * stays, as a suppression.
   */
  async erase(id: string, emailHash: (email: string) => string): Promise<boolean> {
    return this.prisma.$transaction(async (tx) => {
      // First, before any row lock: the subscriber-deletion trigger takes the compose lock (match-ranges.ts).
      await tx.$queryRaw(seqWriterLock);
      const s = await tx.subscriber.findUnique({ where: { id }, select: { email: true } });
      if (!s) return false;
      await tx.subscriptionRequest.deleteMany({ where: { email: s.email } });
      await tx.subscriber.delete({ where: { id } });
      const hash = emailHash(s.email);
      await tx.suppression.upsert({ where: { emailHash: hash }, create: { emailHash: hash, reason: 'erased' }, update: {} });
      return true;
    });
  }
}
