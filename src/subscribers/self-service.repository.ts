import { Injectable } from '@nestjs/common';
import { Frequency, Prisma, SubscriberStatus } from '../generated/prisma/client';
import { PrismaService } from '../infra/prisma/prisma.service';

export interface NewRequest {
  email: string;
  topics: string[];
  frequency: Frequency;
  timezone: string;
  sendHour: number;
  source: string;
  formVersion: string;
  ip: string | null;
}

export interface RequestRow extends NewRequest {
  id: string;
  createdAt: Date;
  confirmSentAt: Date | null;
  outcome: string | null;
  confirmedAt: Date | null;
}

/** What the worker did with a request: sent a confirmation, or why not. */
export type RequestOutcome = 'send' | 'limited' | 'undeliverable' | 'done';

export interface Preferences {
  id: string;
  email: string;
  status: SubscriberStatus;
  topics: string[];
  frequency: Frequency;
  timezone: string;
  sendHour: number;
  pausedUntil: Date | null;
}

export interface PreferenceChange {
  topics: { label: string; query: string }[];
  frequency: Frequency;
  timezone: string;
  sendHour: number;
}

export interface RecentPaper {
  id: number;
  title: string;
  abstract: string;
  authors: string[];
  url: string | null;
  arxivId: string | null;
  createdAt: Date;
}

type Tx = Prisma.TransactionClient;

/** Persistence for the self-service flows: requests, confirmation, preferences, consent, erasure. */
@Injectable()
export class SelfServiceRepository {
  constructor(private readonly prisma: PrismaService) {}

  async createRequest(r: NewRequest): Promise<string> {
    const row = await this.prisma.subscriptionRequest.create({ data: r, select: { id: true } });
    return row.id;
  }

  async request(id: string): Promise<RequestRow | null> {
    return this.prisma.subscriptionRequest.findUnique({ where: { id } });
  }

  /**
   * Decides, once per request, whether a confirmation goes out: not to a bounced or suspended
   * address, and at most `perDay` per address in 24 hours. The address is locked for the decision,
   * so two concurrent requests cannot both take the last slot.
   */
  async decide(id: string, perDay: number): Promise<{ outcome: RequestOutcome; request: RequestRow | null }> {
    return this.prisma.$transaction(async (tx) => {
      const request = await tx.subscriptionRequest.findUnique({ where: { id } });
      if (!request) return { outcome: 'done', request: null };
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${`subscribe:${request.email}`}, 0))`;
      const current = await tx.subscriptionRequest.findUnique({ where: { id }, select: { outcome: true } });
      if (current?.outcome) return { outcome: 'done', request };
      const sub = await tx.subscriber.findUnique({ where: { email: request.email }, select: { status: true } });
      let outcome: RequestOutcome = 'send';
      if (sub && (sub.status === 'bounced' || sub.status === 'suspended')) outcome = 'undeliverable';
      else {
        const sent = await tx.subscriptionRequest.count({
          where: { email: request.email, confirmSentAt: { gt: new Date(Date.now() - 24 * 3600_000) } },
        });
        if (sent >= perDay) outcome = 'limited';
      }
      await tx.subscriptionRequest.update({
        where: { id },
        data: { outcome: outcome === 'send' ? 'sent' : outcome, confirmSentAt: outcome === 'send' ? new Date() : null },
      });
      return { outcome, request };
    });
  }

  /** The send failed: undo the decision so the retried job decides again. */
  async undoDecision(id: string): Promise<void> {
    await this.prisma.subscriptionRequest.update({ where: { id }, data: { outcome: null, confirmSentAt: null } });
  }

  /** Old requests (confirmed or not) hold an address we no longer need. */
  async purgeRequestsBefore(before: Date): Promise<number> {
    return (await this.prisma.subscriptionRequest.deleteMany({ where: { createdAt: { lt: before } } })).count;
  }

  /**
   * Applies a confirmed request: creates or updates the subscriber (active, with the requested
   * topics and schedule), writes the consent record and lifts any suppression of the address.
   * Confirming the same request again changes nothing and returns the same subscriber.
   */
  async confirm(requestId: string, emailHash: string, topics: { label: string; query: string }[]): Promise<string | null> {
    return this.prisma.$transaction(async (tx) => {
      const r = await tx.subscriptionRequest.findUnique({ where: { id: requestId } });
      if (!r || r.outcome !== 'sent') return null;
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${`subscribe:${r.email}`}, 0))`;
      const again = await tx.subscriptionRequest.findUnique({ where: { id: requestId }, select: { confirmedAt: true } });
      if (again?.confirmedAt) {
        const existing = await tx.subscriber.findUnique({ where: { email: r.email }, select: { id: true } });
        return existing?.id ?? null; // erased since: the link is spent
      }
      const now = new Date();
      const schedule = { frequency: r.frequency, timezone: r.timezone, sendHour: r.sendHour };
      const sub = await tx.subscriber.upsert({
        where: { email: r.email },
        create: { email: r.email, status: 'active', confirmedAt: now, consentSource: r.source, ...schedule },
        update: { status: 'active', confirmedAt: now, unsubscribedAt: null, pausedUntil: null, softBounces: 0, consentSource: r.source, ...schedule },
        select: { id: true },
      });
      await this.replaceTopics(tx, sub.id, topics);
      await tx.consentRecord.create({
        data: {
          subscriberId: sub.id,
          action: 'confirmed',
          topics: topics.map((t) => t.label),
          source: r.source,
          formVersion: r.formVersion,
          ip: r.ip,
          requestedAt: r.createdAt,
        },
      });
      await tx.suppression.deleteMany({ where: { emailHash } });
      await tx.subscriptionRequest.update({ where: { id: requestId }, data: { confirmedAt: now } });
      return sub.id;
    });
  }

  async preferences(id: string): Promise<Preferences | null> {
    const s = await this.prisma.subscriber.findUnique({
      where: { id },
      select: {
        id: true,
        email: true,
        status: true,
        frequency: true,
        timezone: true,
        sendHour: true,
        pausedUntil: true,
        topics: { select: { label: true }, orderBy: [{ createdAt: 'asc' }, { label: 'asc' }] },
      },
    });
    return s ? { ...s, topics: s.topics.map((t) => t.label) } : null;
  }

  async updatePreferences(id: string, change: PreferenceChange): Promise<boolean> {
    return this.prisma.$transaction(async (tx) => {
      const n = await tx.subscriber.updateMany({
        where: { id },
        data: { frequency: change.frequency, timezone: change.timezone, sendHour: change.sendHour },
      });
      if (!n.count) return false;
      await this.replaceTopics(tx, id, change.topics);
      await tx.consentRecord.create({ data: { subscriberId: id, action: 'updated', topics: change.topics.map((t) => t.label), source: 'preference-centre' } });
      return true;
    });
  }

  async pause(id: string, until: Date | null): Promise<boolean> {
    return (await this.prisma.subscriber.updateMany({ where: { id }, data: { pausedUntil: until } })).count > 0;
  }

  /** Idempotent; false when there is no such subscriber. */
  async unsubscribe(id: string, source: string): Promise<boolean> {
    return this.prisma.$transaction(async (tx) => {
      const n = await tx.subscriber.updateMany({
        where: { id, status: { not: 'unsubscribed' } },
        data: { status: 'unsubscribed', unsubscribedAt: new Date() },
      });
      if (n.count) await tx.consentRecord.create({ data: { subscriberId: id, action: 'unsubscribed', topics: [], source } });
      return n.count > 0 || (await tx.subscriber.count({ where: { id } })) > 0;
    });
  }

  /** Only an unsubscribed reader can come back this way (a bounced address stays suppressed). */
  async resubscribe(id: string): Promise<boolean> {
    return this.prisma.$transaction(async (tx) => {
      const n = await tx.subscriber.updateMany({ where: { id, status: { in: ['unsubscribed', 'active'] } }, data: { status: 'active', unsubscribedAt: null } });
      if (!n.count) return false;
      const topics = await tx.subscriberTopic.findMany({ where: { subscriberId: id }, select: { label: true } });
      await tx.consentRecord.create({ data: { subscriberId: id, action: 'resubscribed', topics: topics.map((t) => t.label), source: 'one-click' } });
      return true;
    });
  }

  /** Everything we hold about a subscriber (for "download my data"). */
  async export(id: string) {
    const s = await this.prisma.subscriber.findUnique({
      where: { id },
      select: {
        email: true,
        status: true,
        frequency: true,
        timezone: true,
        sendHour: true,
        sendWeekday: true,
        pausedUntil: true,
        createdAt: true,
        confirmedAt: true,
        unsubscribedAt: true,
        consentSource: true,
        topics: { select: { label: true, createdAt: true } },
        consents: { select: { action: true, topics: true, source: true, formVersion: true, ip: true, requestedAt: true, createdAt: true }, orderBy: { id: 'asc' } },
        matches: { select: { createdAt: true, topics: true, why: true, paper: { select: { title: true, url: true, arxivId: true } } }, orderBy: { createdAt: 'asc' } },
      },
    });
    if (!s) return null;
    const [deliveries, requests] = await Promise.all([
      this.prisma.delivery.findMany({
        where: { subscriberId: id },
        select: { issueKey: true, status: true, paperCount: true, createdAt: true, sentAt: true },
        orderBy: { id: 'asc' },
      }),
      this.prisma.subscriptionRequest.findMany({
        where: { email: s.email },
        select: { topics: true, frequency: true, timezone: true, sendHour: true, source: true, formVersion: true, ip: true, createdAt: true, confirmSentAt: true, confirmedAt: true },
        orderBy: { createdAt: 'asc' },
      }),
    ]);
    const { matches, ...rest } = s;
    return { ...rest, deliveries, matches, subscriptionRequests: requests };
  }

  async isSuppressed(emailHash: string): Promise<boolean> {
    return (await this.prisma.suppression.count({ where: { emailHash } })) > 0;
  }

  /** Papers ingested since `since`, newest first (for the live preview). */
  async recentPapers(since: Date, limit: number): Promise<RecentPaper[]> {
    return this.prisma.paper.findMany({
      where: { createdAt: { gte: since } },
      select: { id: true, title: true, abstract: true, authors: true, url: true, arxivId: true, createdAt: true },
      orderBy: { id: 'desc' },
      take: limit,
    });
  }

  /** Replaces a subscriber's topics, sharing Topic rows by normalised query. */
  private async replaceTopics(tx: Tx, subscriberId: string, topics: { label: string; query: string }[]): Promise<void> {
    const ids: { id: number; label: string }[] = [];
    for (const t of topics) {
      const topic = await tx.topic.upsert({ where: { query: t.query }, create: { query: t.query }, update: {}, select: { id: true } });
      ids.push({ id: topic.id, label: t.label });
    }
    await tx.subscriberTopic.deleteMany({ where: { subscriberId, topicId: { notIn: ids.map((t) => t.id) } } });
    for (const t of ids) {
      await tx.subscriberTopic.upsert({
        where: { subscriberId_topicId: { subscriberId, topicId: t.id } },
        create: { subscriberId, topicId: t.id, label: t.label },
        update: { label: t.label },
      });
    }
  }
}
