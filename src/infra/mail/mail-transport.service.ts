import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import nodemailer, { SendMailOptions, SentMessageInfo, Transporter } from 'nodemailer';
import { AppConfig } from '../../config/app-config';
import { OutboxSink } from '../../mailer/dev-sink/outbox-sink';
// Installs the fast path of nodemailer's SMTP DATA stream (see the file).
import './fast-data-stream';

export const DKIM_SIGNED_HEADERS = [
  'from', 'to', 'subject', 'date', 'message-id', 'mime-version', 'content-type',
  'list-id', 'list-unsubscribe', 'list-unsubscribe-post',
];

/**
 * The pooled SMTP transport every email goes through. Without SMTP_URL (development) an embedded
 * SMTP server on loopback keeps each message as an .eml file under OUTBOX_DIR.
 */
@Injectable()
export class MailTransport implements OnApplicationShutdown {
  private readonly logger = new Logger(MailTransport.name);
  private transporter?: Transporter<SentMessageInfo>;
  private sink?: OutboxSink;
  private starting?: Promise<Transporter<SentMessageInfo>>;

  constructor(private readonly config: AppConfig) {}

  get outboxDir(): string {
    return resolve(this.config.env.OUTBOX_DIR);
  }

  get usesEmbeddedSink(): boolean {
    return !this.config.env.SMTP_URL;
  }

  async send(message: SendMailOptions): Promise<SentMessageInfo> {
    const transporter = this.transporter ?? (await (this.starting ??= this.start()));
    return transporter.sendMail(message);
  }

  private async start(): Promise<Transporter<SentMessageInfo>> {
    // Mail never reads local files or fetches URLs on our behalf (attachments, embedded images).
    const safety = { disableFileAccess: true, disableUrlAccess: true, ...this.dkim() };
    let transporter: Transporter<SentMessageInfo>;
    if (this.config.env.SMTP_URL) {
      const url = new URL(this.config.env.SMTP_URL);
      transporter = nodemailer.createTransport({
        pool: true,
        maxConnections: this.config.env.SMTP_POOL_SIZE,
        host: url.hostname,
        port: url.port ? Number(url.port) : url.protocol === 'smtps:' ? 465 : 587,
        secure: url.protocol === 'smtps:',
        auth: url.username ? { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } : undefined,
        ...safety,
      });
    } else {
      if (this.config.isProduction) throw new Error('SMTP_URL must be set in production: the embedded mail sink is for development only');
      this.sink = await OutboxSink.start({ host: '127.0.0.1', port: 0, outboxDir: this.outboxDir });
      this.logger.log(`no SMTP_URL: emails go to the embedded sink on 127.0.0.1:${this.sink.port}, kept in ${this.outboxDir}`);
      transporter = nodemailer.createTransport({ pool: true, maxConnections: this.config.env.SMTP_POOL_SIZE, host: '127.0.0.1', port: this.sink.port, secure: false, ignoreTLS: true, ...safety });
    }
    this.transporter = transporter;
    return transporter;
  }

  /**
   * Optional DKIM signing. The signed headers include List-Unsubscribe and List-Unsubscribe-Post,
   * as RFC 8058 requires for one-click unsubscribe to be trusted.
   */
  private dkim(): { dkim?: { domainName: string; keySelector: string; privateKey: string; headerFieldNames: string } } {
    const { DKIM_DOMAIN, DKIM_SELECTOR, DKIM_PRIVATE_KEY_FILE } = this.config.env;
    if (!DKIM_DOMAIN || !DKIM_SELECTOR || !DKIM_PRIVATE_KEY_FILE) return {};
    return {
      dkim: {
        domainName: DKIM_DOMAIN,
        keySelector: DKIM_SELECTOR,
        privateKey: readFileSync(DKIM_PRIVATE_KEY_FILE, 'utf8'),
        headerFieldNames: DKIM_SIGNED_HEADERS.join(':'),
      },
    };
  }

  async onApplicationShutdown(): Promise<void> {
    this.transporter?.close();
    await this.sink?.stop();
  }
}
