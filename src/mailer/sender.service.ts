import { createHmac } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { MetricsService } from '../metrics/metrics.service';
import { MailTransport } from '../infra/mail/mail-transport.service';
import { paperLink } from '../ingestion/parsers/paper-identity';
import { TokensService } from '../subscribers/tokens.service';
import { DeliveryContent, DeliveryRepository } from './delivery.repository';
import { digestSubject, headerSafe, TemplateRenderer } from './template-renderer';

export type SendOutcome = 'sent' | 'skipped' | 'not-claimed';

/** An SMTP failure that must not be retried (5xx): the job fails for good. */
export class PermanentSendError extends Error {}

/** The server asked us to slow down (421, or a 4xx that says rate/too many): pause the queue. */
export class SlowDownError extends Error {}

export type SmtpFailureKind = 'permanent' | 'rate_limited' | 'transient' | 'network';

/**
 * 5xx is permanent (hard bounce); 421 and rate-limit replies mean "slow down"; other 4xx are
 * transient (soft bounce); no reply code at all is a network problem. Nodemailer puts the SMTP
 * reply code on the error as `responseCode`.
 */
export function classifySmtpError(err: unknown): { kind: SmtpFailureKind; reason: string } {
  const raw = (err as { responseCode?: unknown }).responseCode;
  const code = typeof raw === 'number' ? raw : undefined;
  const message = (err as Error)?.message ?? String(err);
  const reason = headerSafe(`${code ?? 'network'}: ${message}`, 500);
  if (code === undefined) return { kind: 'network', reason };
  if (code >= 500) return { kind: 'permanent', reason };
  if (code === 421 || /rate|too many|throttl|try again later/i.test(message)) return { kind: 'rate_limited', reason };
  return { kind: 'transient', reason };
}

@Injectable()
export class SenderService {
  private readonly logger = new Logger(SenderService.name);

  constructor(
    private readonly repo: DeliveryRepository,
    private readonly renderer: TemplateRenderer,
    private readonly transport: MailTransport,
    private readonly tokens: TokensService,
    private readonly config: AppConfig,
    private readonly metrics: MetricsService,
  ) {}

  /**
   * The single chokepoint every digest email passes through: claim, re-check the subscriber
   * (an opt-out after queueing wins), render, send, record. Transient failures throw so BullMQ
   * retries with backoff; 5xx replies throw PermanentSendError and suppress the address.
   */
  async send(deliveryId: number, opts: { lastAttempt: boolean }): Promise<SendOutcome> {
    if (!(await this.repo.claim(deliveryId))) return 'not-claimed';
    const stopTimer = this.metrics.sendDuration.startTimer();
    const d = await this.repo.content(deliveryId);
    if (!d) return 'not-claimed';
    // A pause set in the preference centre wins like an opt-out: papers matched meanwhile are not sent.
    const paused = d.subscriber.pausedUntil !== null && d.subscriber.pausedUntil > new Date();
    if (d.subscriber.status !== 'active' || paused || d.papers.length === 0) {
      await this.repo.finish(deliveryId, 'skipped', { lastError: `subscriber is ${paused ? 'paused' : d.subscriber.status}` });
      this.metrics.sends.inc({ outcome: 'skipped' });
      return 'skipped';
    }
    const message = this.compose(d);
    try {
      const info = await this.transport.send(message);
      await this.repo.finishSent(deliveryId, d.subscriber.id, { messageId: message.messageId, smtpResponse: headerSafe(info.response ?? '', 500) });
      this.metrics.sends.inc({ outcome: 'sent' });
      this.logger.log(`delivery ${deliveryId} sent (${d.papers.length} papers)`);
      return 'sent';
    } catch (err) {
      const failure = classifySmtpError(err);
      this.metrics.sendFailures.inc({ class: failure.kind });
      if (failure.kind === 'permanent') {
        await this.repo.finish(deliveryId, 'failed', { lastError: failure.reason, smtpResponse: failure.reason });
        await this.repo.suppressSubscriber(d.subscriber.id);
        this.metrics.sends.inc({ outcome: 'failed' });
        this.logger.warn(`delivery ${deliveryId} rejected permanently (${failure.reason}); address suppressed`);
        throw new PermanentSendError(failure.reason);
      }
      if (failure.kind === 'rate_limited') {
        // Not the recipient's fault: back to the queue without spending an attempt.
        await this.repo.finish(deliveryId, 'retry', { lastError: failure.reason });
        this.logger.warn(`delivery ${deliveryId}: server asked us to slow down (${failure.reason})`);
        throw new SlowDownError(failure.reason);
      }
      await this.repo.finish(deliveryId, opts.lastAttempt ? 'failed' : 'retry', { lastError: failure.reason });
      if (opts.lastAttempt) {
        this.metrics.sends.inc({ outcome: 'failed' });
        if (failure.kind === 'transient' && (await this.repo.countSoftBounce(d.subscriber.id)) >= this.config.env.SOFT_BOUNCE_LIMIT) {
          await this.repo.suppressSubscriber(d.subscriber.id);
          this.logger.warn(`delivery ${deliveryId}: soft-bounce limit reached; address suppressed`);
        }
      }
      this.logger.warn(`delivery ${deliveryId} attempt ${d.attempts} failed (${failure.reason})${opts.lastAttempt ? '; giving up' : '; will retry'}`);
      throw err;
    } finally {
      stopTimer();
    }
  }

  /** Builds the exact message for a delivery (also the admin console's preview and test send). */
  compose(d: DeliveryContent) {
    const unsubscribeUrl = this.config.publicLink(`unsubscribe/${this.tokens.sign('unsubscribe', d.subscriber.id)}`);
    const topicCounts = new Map<string, number>();
    for (const p of d.papers) for (const t of p.topics) topicCounts.set(t, (topicCounts.get(t) ?? 0) + 1);
    const topTopics = [...topicCounts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
    const subject = digestSubject(d.papers.length, topTopics[0]?.[0] ?? '', topTopics.length - 1);
    // Best first; past the cap, "and N more" links to a page listing the whole delivery.
    const shown = d.papers.slice(0, this.config.env.MAX_PAPERS_PER_EMAIL);
    const from = this.config.env.MAIL_FROM;
    const newest = d.papers.reduce((a, p) => (p.digestDate > a ? p.digestDate : a), d.papers[0].digestDate);
    const email = this.renderer.renderDigest({
      subject,
      preheader: d.papers
        .slice(0, 3)
        .map((p) => p.title)
        .join(' · '),
      digestDate: newest.toLocaleDateString('en-GB', { weekday: 'short', day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' }),
      papers: shown.map((p) => ({
        title: p.title,
        url: paperLink(p),
        authors: p.authors.length ? p.authors.join(', ') : null,
        abstract: p.abstract,
        topics: p.topics,
        why: p.why,
        pdfUrl: p.pdfUrl ?? (p.arxivId ? `https://arxiv.org/pdf/${p.arxivId}` : null),
        codeUrl: p.codeUrl,
        projectUrl: p.projectUrl,
        upvotes: p.upvotes,
      })),
      moreCount: d.papers.length - shown.length,
      moreUrl: d.papers.length > shown.length ? this.config.publicLink(`deliveries/${this.tokens.sign('delivery', String(d.id))}`) : null,
      manageUrl: this.config.publicLink(`manage/${this.tokens.sign('manage', d.subscriber.id)}`),
      unsubscribeUrl,
      publicUrl: this.config.env.PUBLIC_URL,
      senderName: /^\s*"?([^"<]+?)"?\s*</.exec(from)?.[1] ?? 'Paperboy',
      senderAddress: /<([^>]+)>/.exec(from)?.[1] ?? from,
    });
    return {
      from,
      to: d.subscriber.email,
      subject: email.subject,
      html: email.html,
      text: email.text,
      messageId: this.messageId(d.id),
      headers: {
        'List-Unsubscribe': `<${unsubscribeUrl}>`,
        'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
        'List-Id': `Paperboy paper alerts <alerts.${this.domain()}>`,
        'X-Paperboy-Delivery': String(d.id),
      },
    };
  }

  /** Stable per delivery, so a resend (after the unknown window) is recognisable as the same email. */
  private messageId(deliveryId: number): string {
    const tag = createHmac('sha256', this.config.env.APP_SECRET).update(`message-id:${deliveryId}`).digest('hex').slice(0, 16);
    return `<delivery-${deliveryId}.${tag}@${this.domain()}>`;
  }

  private domain(): string {
    const m = /@([^>\s]+)>?\s*$/.exec(this.config.env.MAIL_FROM);
    return m ? m[1] : 'paperboy.localhost';
  }
}
