import { createHmac } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Injectable, Logger } from '@nestjs/common';
import type { SendMailOptions } from 'nodemailer';
import { AppConfig } from '../config/app-config';
import { MetricsService } from '../metrics/metrics.service';
import { MailTransport } from '../infra/mail/mail-transport.service';
import { buildMime, MimeMessage } from '../infra/mail/mime-builder';
import { JobProducer } from '../infra/queue/job-producer.service';
import { SendRateLimiter } from '../infra/queue/send-rate-limiter';
import { paperLink } from '../ingestion/parsers/paper-identity';
import { TokensService } from '../subscribers/tokens.service';
import { ClaimedDelivery, DeliveryContent, DeliveryRepository } from './delivery.repository';
import { digestSubject, headerSafe, TemplateRenderer } from './template-renderer';

export type SendOutcome = 'sent' | 'skipped' | 'not-claimed';

/** An SMTP failure that must not be retried (5xx): the job fails for good. */
export class PermanentSendError extends Error {}

/** The server asked us to slow down (421, or a 4xx that says rate/too many): every worker pauses. */
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

/** What one attempt at one claimed delivery came to. */
type Attempt =
  | { kind: 'sent' }
  | { kind: 'skipped' }
  | { kind: 'failed'; error: unknown; reason: string; permanent: boolean }
  | { kind: 'retry'; error: unknown; reason: string; slowDown: boolean };

export interface BatchResult {
  sent: number;
  skipped: number;
  failed: number;
  retried: number;
  notClaimed: number;
  /** Ids not looked at because the worker is shutting down (still pending: the job is put back). */
  remaining: number[];
}

/** A counting semaphore with FIFO waiters that can ask for "at least min, up to max" permits. */
class Slots {
  private waiters: { min: number; max: number; grant: (n: number) => void }[] = [];

  constructor(private free: number) {}

  take(min: number, max: number): Promise<number> {
    if (this.waiters.length === 0 && this.free >= min) {
      const n = Math.min(this.free, max);
      this.free -= n;
      return Promise.resolve(n);
    }
    return new Promise((grant) => this.waiters.push({ min, max, grant }));
  }

  give(n: number): void {
    this.free += n;
    while (this.waiters.length && this.free >= this.waiters[0].min) {
      const w = this.waiters.shift()!;
      const k = Math.min(this.free, w.max);
      this.free -= k;
      w.grant(k);
    }
  }
}

/**
 * Buffers `sent` outcomes and writes them in one statement every FLUSH_EVERY results or
 * FLUSH_MS milliseconds. Until the write, a sent delivery is still `sending` in the database
 * (the same "unknown" window as a worker dying right after SMTP accepted).
 */
const FLUSH_EVERY = 100;
const FLUSH_MS = 50;

@Injectable()
export class SenderService {
  private readonly logger = new Logger(SenderService.name);
  /** Deliveries this process has claimed and not yet finished (at most SEND_CONCURRENCY). */
  private readonly slots: Slots;
  private pendingSent: { id: number; messageId: string; smtpResponse: string }[] = [];
  private flushTimer?: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();
  // Computed once: the parts of every message that do not depend on the recipient.
  private readonly senderName: string;
  private readonly senderAddress: string;
  private readonly mailDomain: string;
  private readonly listId: string;
  private readonly dateLabels = new Map<number, string>();

  constructor(
    private readonly repo: DeliveryRepository,
    private readonly renderer: TemplateRenderer,
    private readonly transport: MailTransport,
    private readonly tokens: TokensService,
    private readonly config: AppConfig,
    private readonly metrics: MetricsService,
    private readonly limiter: SendRateLimiter,
    private readonly jobs: JobProducer,
  ) {
    this.slots = new Slots(config.env.SEND_CONCURRENCY);
    const from = config.env.MAIL_FROM;
    this.senderName = /^\s*"?([^"<]+?)"?\s*</.exec(from)?.[1] ?? 'Paperboy';
    this.senderAddress = /<([^>]+)>/.exec(from)?.[1] ?? from;
    this.mailDomain = /@([^>\s]+)>?\s*$/.exec(from)?.[1] ?? 'paperboy.localhost';
    this.listId = `Paperboy paper alerts <alerts.${this.mailDomain}>`;
  }

  /** How many deliveries one claim statement takes at most: ~100 ms of the rate, at most SEND_CONCURRENCY. */
  private get groupSize(): number {
    const { SEND_CONCURRENCY, SEND_RATE_PER_SEC, SEND_BATCH_SIZE } = this.config.env;
    return Math.max(1, Math.min(SEND_CONCURRENCY, SEND_BATCH_SIZE, Math.ceil(SEND_RATE_PER_SEC / 10)));
  }

  /**
   * One delivery (a `send` job: retries, the reconciler, admin re-sends, and tests): the same
   * chokepoint as a batch (claim, re-check the subscriber, render, send, record). Transient
   * failures throw so BullMQ retries the job with backoff; 5xx replies throw PermanentSendError
   * and suppress the address; a slow-down throws SlowDownError after pausing every worker.
   */
  async send(deliveryId: number, opts: { lastAttempt: boolean }): Promise<SendOutcome> {
    await this.slots.take(1, 1);
    let held = 1;
    try {
      const reservation = await this.limiter.reserve(1);
      if (reservation && reservation.waitMs >= 1) await sleep(reservation.waitMs);
      const [d] = await this.repo.claimBatch([deliveryId]);
      if (!d || d.skipped) await this.limiter.refund(1);
      if (!d) return 'not-claimed';
      if (d.skipped) return this.recordSkipped(d, d.skipped);
      const attempt = await this.attempt(d, opts.lastAttempt);
      held = 0;
      this.slots.give(1);
      await this.flush();
      if (attempt.kind === 'sent' || attempt.kind === 'skipped') return attempt.kind;
      if (attempt.kind === 'failed' && attempt.permanent) throw new PermanentSendError(attempt.reason);
      if (attempt.kind === 'retry' && attempt.slowDown) throw new SlowDownError(attempt.reason);
      throw attempt.error;
    } finally {
      if (held) this.slots.give(held);
    }
  }

  /**
   * A `send-batch` job: claims the deliveries in groups (one statement each, taken only when the
   * rate limiter has slots for them), renders and sends with at most SEND_CONCURRENCY in flight
   * per process, and records outcomes in batched writes. A delivery that fails temporarily gets a
   * `send` job of its own (with backoff), so the others are never resent.
   */
  async sendBatch(ids: number[], shouldStop: () => boolean = () => false): Promise<BatchResult> {
    const result: BatchResult = { sent: 0, skipped: 0, failed: 0, retried: 0, notClaimed: 0, remaining: [] };
    const inflight = new Set<Promise<void>>();
    const { SEND_ATTEMPTS, SEND_CONCURRENCY } = this.config.env;
    const group = this.groupSize;
    let next = 0;
    let failure: unknown;
    try {
      while (next < ids.length && !shouldStop() && failure === undefined) {
        const want = Math.min(ids.length - next, group);
        // Wait for a useful number of free slots, so that groups stay large at high concurrency.
        let n = await this.slots.take(Math.min(want, Math.max(1, Math.floor(SEND_CONCURRENCY / 4))), want);
        try {
          const reservation = await this.limiter.reserve(n, shouldStop);
          if (!reservation) break;
          if (reservation.waitMs >= 1) await sleep(reservation.waitMs);
          if (shouldStop()) {
            await this.limiter.refund(n);
            break;
          }
          const claimIds = ids.slice(next, next + n);
          next += n;
          const rows = await this.repo.claimBatch(claimIds);
          result.notClaimed += n - rows.length;
          let slot = 0;
          for (const d of rows) {
            if (d.skipped) {
              await this.recordSkipped(d, d.skipped);
              result.skipped++;
              continue;
            }
            const delay = slot++ * reservation.intervalMs;
            n--;
            const p = (async () => {
              if (delay >= 1) await sleep(delay);
              const attempt = await this.attempt(d, d.attempts >= SEND_ATTEMPTS);
              if (attempt.kind === 'retry') {
                await this.scheduleRetry(d, attempt.slowDown);
                result.retried++;
              } else result[attempt.kind === 'sent' ? 'sent' : attempt.kind === 'skipped' ? 'skipped' : 'failed']++;
            })()
              .catch((e) => {
                failure ??= e;
              })
              .finally(() => {
                this.slots.give(1);
                inflight.delete(p);
              });
            inflight.add(p);
          }
          // Slots reserved for rows that were not claimed or were skipped go back.
          await this.limiter.refund(n);
        } finally {
          this.slots.give(n);
        }
      }
    } finally {
      // Whatever happens, the sends already under way finish and are recorded before the job ends.
      await Promise.allSettled([...inflight]);
    }
    await this.flush();
    if (failure !== undefined) throw failure;
    result.remaining = ids.slice(next);
    return result;
  }

  /**
   * Render, send and record one claimed delivery. Never throws for SMTP failures: it records
   * them (retry / failed, suppression, soft bounces) and says what happened.
   */
  private async attempt(d: ClaimedDelivery, lastAttempt: boolean): Promise<Attempt> {
    if (d.papers.length === 0) {
      await this.recordSkipped(d, 'no papers left to send');
      return { kind: 'skipped' };
    }
    const stopTimer = this.metrics.sendDuration.startTimer();
    try {
      let message: ReturnType<SenderService['composeParts']>;
      let raw: Buffer;
      try {
        message = this.composeParts(d);
        // The MIME is built here (fast quoted-printable, each paper card encoded once for every
        // recipient) and handed to nodemailer as a raw message.
        raw = buildMime(message);
      } catch (err) {
        // Bad data in one delivery must not hold up its batch: it fails, for an admin to look at.
        const reason = headerSafe(`render failed: ${(err as Error)?.message ?? String(err)}`, 500);
        await this.repo.recordFailure(d.id, 'failed', { lastError: reason });
        this.metrics.sends.inc({ outcome: 'failed' });
        this.logger.error(`delivery ${d.id}: ${reason}`);
        return { kind: 'failed', error: err, reason, permanent: true };
      }
      let info: { response?: string };
      try {
        info = await this.transport.send({ envelope: { from: this.senderAddress, to: [d.subscriber.email] }, raw, messageId: message.messageId });
      } catch (err) {
        return await this.recordFailure(d, err, lastAttempt);
      }
      this.queueSent({ id: d.id, messageId: message.messageId, smtpResponse: headerSafe(info.response ?? '', 500) });
      this.metrics.sends.inc({ outcome: 'sent' });
      return { kind: 'sent' };
    } finally {
      stopTimer();
    }
  }

  private async recordFailure(d: ClaimedDelivery, err: unknown, lastAttempt: boolean): Promise<Attempt> {
    const failure = classifySmtpError(err);
    this.metrics.sendFailures.inc({ class: failure.kind });
    if (failure.kind === 'permanent') {
      await this.repo.recordFailure(d.id, 'failed', { lastError: failure.reason, smtpResponse: failure.reason });
      await this.repo.suppressSubscriber(d.subscriber.id);
      this.metrics.sends.inc({ outcome: 'failed' });
      this.logger.warn(`delivery ${d.id} rejected permanently (${failure.reason}); address suppressed`);
      return { kind: 'failed', error: err, reason: failure.reason, permanent: true };
    }
    if (failure.kind === 'rate_limited') {
      // Not the recipient's fault: every worker pauses, and this attempt does not count.
      await this.repo.recordFailure(d.id, 'retry', { lastError: failure.reason, refundAttempt: true });
      await this.limiter.slowDown(this.config.env.SMTP_SLOWDOWN_MS);
      this.logger.warn(`delivery ${d.id}: server asked us to slow down (${failure.reason}); pausing sends for ${this.config.env.SMTP_SLOWDOWN_MS} ms`);
      return { kind: 'retry', error: err, reason: failure.reason, slowDown: true };
    }
    await this.repo.recordFailure(d.id, lastAttempt ? 'failed' : 'retry', { lastError: failure.reason });
    this.logger.warn(`delivery ${d.id} attempt ${d.attempts} failed (${failure.reason})${lastAttempt ? '; giving up' : '; will retry'}`);
    if (!lastAttempt) return { kind: 'retry', error: err, reason: failure.reason, slowDown: false };
    this.metrics.sends.inc({ outcome: 'failed' });
    if (failure.kind === 'transient' && (await this.repo.countSoftBounce(d.subscriber.id)) >= this.config.env.SOFT_BOUNCE_LIMIT) {
      await this.repo.suppressSubscriber(d.subscriber.id);
      this.logger.warn(`delivery ${d.id}: soft-bounce limit reached; address suppressed`);
    }
    return { kind: 'failed', error: err, reason: failure.reason, permanent: false };
  }

  /**
   * A batch member failed temporarily: its own `send` job, so the rest of the batch is not
   * resent. Backoff SEND_BACKOFF_MS × 2^(attempt-1) ±50% (a slow-down waits SMTP_SLOWDOWN_MS and
   * costs no attempt); the job carries the attempts left.
   */
  private async scheduleRetry(d: ClaimedDelivery, slowDown: boolean): Promise<void> {
    const { SEND_ATTEMPTS, SEND_BACKOFF_MS, SMTP_SLOWDOWN_MS } = this.config.env;
    const used = slowDown ? d.attempts - 1 : d.attempts;
    const delay = slowDown ? SMTP_SLOWDOWN_MS : SEND_BACKOFF_MS * 2 ** (used - 1) * (0.5 + Math.random());
    await this.jobs.retrySend(d, delay, SEND_ATTEMPTS - used, SEND_BACKOFF_MS * 2 ** used);
  }

  private async recordSkipped(d: ClaimedDelivery, reason: string): Promise<'skipped'> {
    // The claim statement already wrote `skipped` for a gone or paused subscriber.
    if (!d.skipped) await this.repo.recordSkipped(d.id, reason);
    this.metrics.sends.inc({ outcome: 'skipped' });
    this.logger.log(`delivery ${d.id} skipped (${reason})`);
    return 'skipped';
  }

  private queueSent(row: { id: number; messageId: string; smtpResponse: string }): void {
    this.pendingSent.push(row);
    if (this.pendingSent.length >= FLUSH_EVERY) void this.flush().catch(() => undefined);
    else this.flushTimer ??= setTimeout(() => void this.flush().catch(() => undefined), FLUSH_MS);
  }

  /**
   * Writes every buffered `sent` outcome; resolves once they (and every earlier write) are in the
   * database. A failed write keeps its rows buffered and tries again (the emails did go out).
   */
  flush(): Promise<void> {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    const rows = this.pendingSent;
    if (rows.length === 0) return this.flushing;
    this.pendingSent = [];
    // One write at a time, in order.
    const write = this.flushing
      .catch(() => undefined)
      .then(() => this.repo.recordSent(rows))
      .catch((e) => {
        this.pendingSent = rows.concat(this.pendingSent);
        this.flushTimer ??= setTimeout(() => void this.flush().catch(() => undefined), 1000);
        throw e;
      });
    this.flushing = write;
    return write;
  }

  /** Builds the exact message for a delivery (also the admin console's preview and test send). */
  compose(d: DeliveryContent) {
    const { html, ...message } = this.composeParts(d);
    return { ...message, html: html.head + html.shared.join('') + html.tail };
  }

  /** compose() with the HTML in pieces, the paper cards shared with other recipients' messages. */
  private composeParts(d: DeliveryContent) {
    const unsubscribeUrl = this.config.publicLink(`unsubscribe/${this.tokens.sign('unsubscribe', d.subscriber.id)}`);
    const topicCounts = new Map<string, number>();
    for (const p of d.papers) for (const t of p.topics) topicCounts.set(t, (topicCounts.get(t) ?? 0) + 1);
    const topTopics = [...topicCounts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
    const subject = digestSubject(d.papers.length, topTopics[0]?.[0] ?? '', topTopics.length - 1);
    // Best first; past the cap, "and N more" links to a page listing the whole delivery.
    const shown = d.papers.slice(0, this.config.env.MAX_PAPERS_PER_EMAIL);
    const newest = d.papers.reduce((a, p) => (p.digestDate > a ? p.digestDate : a), d.papers[0].digestDate);
    const email = this.renderer.renderDigestParts({
      subject,
      preheader: d.papers
        .slice(0, 3)
        .map((p) => p.title)
        .join(' · '),
      digestDate: this.dateLabel(newest),
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
      senderName: this.senderName,
      senderAddress: this.senderAddress,
    });
    return {
      from: this.config.env.MAIL_FROM,
      to: d.subscriber.email,
      subject: email.subject,
      html: { head: email.html.head, shared: email.html.cards, tail: email.html.tail },
      text: email.text,
      messageId: this.messageId(d.id),
      // Both parts are quoted-printable (mostly ASCII HTML and text); saying so spares nodemailer
      // a character-by-character scan of each part to choose an encoding.
      textEncoding: 'quoted-printable',
      headers: {
        'List-Unsubscribe': `<${unsubscribeUrl}>`,
        'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
        'List-Id': this.listId,
        'X-Paperboy-Delivery': String(d.id),
      },
    } satisfies Omit<SendMailOptions, 'html'> & MimeMessage;
  }

  private dateLabel(d: Date): string {
    const key = d.getTime();
    let label = this.dateLabels.get(key);
    if (label === undefined) {
      label = d.toLocaleDateString('en-GB', { weekday: 'short', day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' });
      if (this.dateLabels.size > 1000) this.dateLabels.clear();
      this.dateLabels.set(key, label);
    }
    return label;
  }

  /** Stable per delivery, so a resend (after the unknown window) is recognisable as the same email. */
  private messageId(deliveryId: number): string {
    const tag = createHmac('sha256', this.config.env.APP_SECRET).update(`message-id:${deliveryId}`).digest('hex').slice(0, 16);
    return `<delivery-${deliveryId}.${tag}@${this.mailDomain}>`;
  }
}
