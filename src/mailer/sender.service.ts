import { createHmac } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { MailTransport } from '../infra/mail/mail-transport.service';
import { paperLink } from '../ingestion/parsers/paper-identity';
import { TokensService } from '../subscribers/tokens.service';
import { DeliveryContent, DeliveryRepository } from './delivery.repository';
import { digestSubject, headerSafe, TemplateRenderer } from './template-renderer';

export type SendOutcome = 'sent' | 'skipped' | 'not-claimed';

/** An SMTP failure that must not be retried (5xx): the job fails for good. */
export class PermanentSendError extends Error {}

/** Nodemailer puts the SMTP reply code on the error for rejected commands. */
function smtpCode(err: unknown): number | undefined {
  const code = (err as { responseCode?: unknown }).responseCode;
  return typeof code === 'number' ? code : undefined;
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
  ) {}

  /**
   * The single chokepoint every digest email passes through: claim, re-check the subscriber
   * (an opt-out after queueing wins), render, send, record. Transient failures throw so BullMQ
   * retries with backoff; 5xx replies throw PermanentSendError and suppress the address.
   */
  async send(deliveryId: number, opts: { lastAttempt: boolean }): Promise<SendOutcome> {
    if (!(await this.repo.claim(deliveryId))) return 'not-claimed';
    const d = await this.repo.content(deliveryId);
    if (!d) return 'not-claimed';
    if (d.subscriber.status !== 'active' || d.papers.length === 0) {
      await this.repo.finish(deliveryId, 'skipped', { lastError: `subscriber is ${d.subscriber.status}` });
      return 'skipped';
    }
    const message = this.compose(d);
    try {
      const info = await this.transport.send(message);
      await this.repo.finish(deliveryId, 'sent', { messageId: message.messageId, smtpResponse: headerSafe(info.response ?? '', 500) });
      this.logger.log(`delivery ${deliveryId} sent (${d.papers.length} papers)`);
      return 'sent';
    } catch (err) {
      const code = smtpCode(err);
      const reason = headerSafe(`${code ?? 'network'}: ${(err as Error).message}`, 500);
      if (code !== undefined && code >= 500) {
        await this.repo.finish(deliveryId, 'failed', { lastError: reason, smtpResponse: reason });
        await this.repo.suppressSubscriber(d.subscriber.id);
        this.logger.warn(`delivery ${deliveryId} rejected permanently (${code}); address suppressed`);
        throw new PermanentSendError(reason);
      }
      await this.repo.finish(deliveryId, opts.lastAttempt ? 'failed' : 'retry', { lastError: reason });
      this.logger.warn(`delivery ${deliveryId} attempt ${d.attempts} failed (${reason})${opts.lastAttempt ? '; giving up' : '; will retry'}`);
      throw err;
    }
  }

  private compose(d: DeliveryContent) {
    const unsubscribeUrl = this.config.publicLink(`unsubscribe/${this.tokens.sign('unsubscribe', d.subscriber.id)}`);
    const topicCounts = new Map<string, number>();
    for (const p of d.papers) for (const t of p.topics) topicCounts.set(t, (topicCounts.get(t) ?? 0) + 1);
    const topTopics = [...topicCounts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
    const subject = digestSubject(d.papers.length, topTopics[0]?.[0] ?? '', topTopics.length - 1);
    const from = this.config.env.MAIL_FROM;
    const newest = d.papers.reduce((a, p) => (p.digestDate > a ? p.digestDate : a), d.papers[0].digestDate);
    const email = this.renderer.renderDigest({
      subject,
      preheader: d.papers
        .slice(0, 3)
        .map((p) => p.title)
        .join(' · '),
      digestDate: newest.toLocaleDateString('en-GB', { weekday: 'short', day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' }),
      papers: d.papers.map((p) => ({
        title: p.title,
        url: paperLink(p),
        authors: p.authors.length ? p.authors.join(', ') : null,
        abstract: p.abstract,
        topics: p.topics,
        why: p.why,
        pdfUrl: p.arxivId ? `https://arxiv.org/pdf/${p.arxivId}` : null,
      })),
      moreCount: 0,
      moreUrl: null,
      manageUrl: null,
      unsubscribeUrl,
      publicUrl: this.config.env.PUBLIC_URL,
      senderName: 'Paperboy',
      senderAddress: from,
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
