import { randomUUID } from 'node:crypto';
import { InjectQueue } from '@nestjs/bullmq';
import { BadRequestException, Injectable, Logger, NotFoundException } from '@nestjs/common';
import { Queue } from 'bullmq';
import { DeliveryStatus } from '../../generated/prisma/client';
import { MailTransport } from '../../infra/mail/mail-transport.service';
import { QUEUES } from '../../infra/queue/queues';
import { ComposerService } from '../../mailer/composer.service';
import { ReconcilerService } from '../../mailer/reconciler.service';
import { SenderService } from '../../mailer/sender.service';
import { isValidEmail, normalizeEmail } from '../../subscribers/subscribers.service';
import { AdminSendsRepository, DeliveryLogFilter, DeliveryLogRow, SendScope } from './admin-sends.repository';

export interface DryRun {
  scope: SendScope;
  emails: number;
  /** Active subscribers with a pause set: their deliveries would be skipped at send time. */
  paused: number;
  papers: number;
  /** Papers per email (as carried, before the MAX_PAPERS_PER_EMAIL cut): [papers, emails]. */
  distribution: [number, number][];
  /** Recipients to preview (the first 100 by address). */
  sample: { subscriberId: string; email: string; papers: number }[];
}

export interface Preview {
  to: string;
  subject: string;
  html: string;
  text: string;
  papers: number;
}

export const DELIVERY_STATUSES: DeliveryStatus[] = ['pending', 'sending', 'retry', 'sent', 'failed', 'skipped', 'unknown'];

/**
 * Sends from the console. Everything real goes through ComposerService (delivery rows, unique per
 * subscriber and issue) and SenderService (the one chokepoint); preview and test send use the
 * sender's own compose, so what the admin sees is what the subscriber would get.
 */
@Injectable()
export class AdminSendsService {
  private readonly logger = new Logger(AdminSendsService.name);

  constructor(
    private readonly repo: AdminSendsRepository,
    private readonly composer: ComposerService,
    private readonly sender: SenderService,
    private readonly transport: MailTransport,
    private readonly reconciler: ReconcilerService,
    @InjectQueue(QUEUES.send) private readonly sendQueue: Queue,
  ) {}

  async dryRun(scope: SendScope): Promise<DryRun> {
    const rows = await this.repo.dryRun(scope);
    const live = rows.filter((r) => !r.paused);
    const hist = new Map<number, number>();
    for (const r of live) hist.set(r.papers, (hist.get(r.papers) ?? 0) + 1);
    return {
      scope,
      emails: live.length,
      paused: rows.length - live.length,
      papers: live.reduce((a, r) => a + r.papers, 0),
      distribution: [...hist.entries()].sort((a, b) => a[0] - b[0]),
      sample: live.slice(0, 100).map(({ subscriberId, email, papers }) => ({ subscriberId, email, papers })),
    };
  }

  /** The exact email `subscriberId` would get if sent now. */
  async preview(subscriberId: string): Promise<Preview> {
    const content = /^[0-9a-f-]{36}$/i.test(subscriberId) ? await this.repo.pendingContent(subscriberId) : null;
    if (!content) throw new NotFoundException('no such subscriber');
    if (content.papers.length === 0) throw new BadRequestException('this subscriber has no undelivered papers: nothing would be sent');
    const m = this.sender.compose(content);
    return { to: m.to, subject: m.subject, html: m.html, text: m.text, papers: content.papers.length };
  }

  /**
   * The chosen subscriber's email, to a test address. The links are signed for a throwaway id, so a
   * tester clicking "unsubscribe" cannot unsubscribe the real subscriber; no delivery row is made.
   */
  async testSend(subscriberId: string, rawTo: string): Promise<{ to: string; messageId: string }> {
    const to = normalizeEmail(rawTo);
    if (!isValidEmail(to)) throw new BadRequestException(`to: "${rawTo}" is not a valid address`);
    const content = /^[0-9a-f-]{36}$/i.test(subscriberId) ? await this.repo.pendingContent(subscriberId) : null;
    if (!content) throw new NotFoundException('no such subscriber');
    if (content.papers.length === 0) throw new BadRequestException('this subscriber has no undelivered papers: nothing to test');
    const m = this.sender.compose({ ...content, subscriber: { ...content.subscriber, id: randomUUID(), email: to } });
    const messageId = `<test-${randomUUID()}@paperboy.admin>`;
    const { 'X-Paperboy-Delivery': _omit, ...headers } = m.headers;
    await this.transport.send({ ...m, to, subject: `[Test] ${m.subject}`, messageId, headers: { ...headers, 'X-Paperboy-Test': 'admin test send' } });
    this.logger.log(`admin test send of subscriber ${subscriberId}'s email`);
    return { to, messageId };
  }

  /** Send now; the issue key names the batch (for cancel and the log). */
  async sendNow(scope: SendScope): Promise<{ issueKey: string | null; queued: number }> {
    // Everyone due: each subscriber's own daily/weekly issue (no single key to name or cancel).
    if (scope.due) return { issueKey: null, queued: await this.composer.composeDue() };
    const now = new Date();
    const queued = await this.composer.sendNow({ digestId: scope.digestId }, now);
    return { issueKey: `manual-${now.toISOString()}`, queued };
  }

  async pause(): Promise<void> {
    await this.sendQueue.pause();
  }

  async resume(): Promise<void> {
    await this.sendQueue.resume();
  }

  isPaused(): Promise<boolean> {
    return this.sendQueue.isPaused();
  }

  cancel(issueKey: string): Promise<number> {
    if (!/^[\w:.\-]{1,100}$/.test(issueKey)) throw new BadRequestException('issue: not an issue key');
    return this.repo.cancelIssue(issueKey);
  }

  /** Failed deliveries go back to the queue (all, or the given ids). */
  retryFailed(ids?: number[]): Promise<number> {
    return this.reconciler.reopen('failed', ids);
  }

  recentIssues() {
    return this.repo.recentIssues();
  }

  async deliveryLog(q: { status?: string; subscriber?: string; issue?: string; before?: string | number; limit?: string | number }): Promise<{ rows: DeliveryLogRow[]; next: number | null; filter: DeliveryLogFilter }> {
    const status = q.status || undefined;
    if (status && !DELIVERY_STATUSES.includes(status as DeliveryStatus)) throw new BadRequestException(`status: one of ${DELIVERY_STATUSES.join(', ')}`);
    const filter: DeliveryLogFilter = {
      status: status as DeliveryStatus | undefined,
      subscriber: q.subscriber ? normalizeEmail(String(q.subscriber)).slice(0, 254) : undefined,
      issueKey: q.issue ? String(q.issue).slice(0, 100) : undefined,
    };
    const limit = Math.min(Math.max(Number(q.limit) || 100, 1), 500);
    const before = Number(q.before) > 0 ? Number(q.before) : undefined;
    const rows = await this.repo.deliveryLog(filter, limit + 1, before);
    const more = rows.length > limit;
    if (more) rows.pop();
    return { rows, next: more ? rows[rows.length - 1].id : null, filter };
  }
}
