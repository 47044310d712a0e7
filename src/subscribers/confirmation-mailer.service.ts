import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { MailTransport } from '../infra/mail/mail-transport.service';
import { TemplateRenderer } from '../mailer/template-renderer';
import { RequestRow } from './self-service.repository';
import { scheduleLabel } from './subscription-input';
import { TokensService } from './tokens.service';

/** Renders and sends the double opt-in email of one subscribe request. */
@Injectable()
export class ConfirmationMailer {
  constructor(
    private readonly renderer: TemplateRenderer,
    private readonly transport: MailTransport,
    private readonly tokens: TokensService,
    private readonly config: AppConfig,
  ) {}

  async send(request: RequestRow): Promise<void> {
    const confirmUrl = this.config.publicLink(`confirm/${this.tokens.sign('confirm', request.id)}`);
    const hours = this.config.env.CONFIRM_TOKEN_TTL_HOURS;
    const email = this.renderer.renderConfirm({
      confirmUrl,
      topics: request.topics,
      scheduleLabel: scheduleLabel(request),
      expiresIn: hours % 24 === 0 ? `${hours / 24} ${hours === 24 ? 'day' : 'days'}` : `${hours} ${hours === 1 ? 'hour' : 'hours'}`,
      publicUrl: this.config.env.PUBLIC_URL,
      senderName: 'Paperboy',
      senderAddress: /<([^>]+)>/.exec(this.config.env.MAIL_FROM)?.[1] ?? this.config.env.MAIL_FROM,
    });
    const domain = /@([^>\s]+)>?\s*$/.exec(this.config.env.MAIL_FROM)?.[1] ?? 'paperboy.localhost';
    const tag = createHash('sha256').update(`${this.config.env.APP_SECRET}:confirm:${request.id}`).digest('hex').slice(0, 24);
    await this.transport.send({
      from: this.config.env.MAIL_FROM,
      to: request.email,
      subject: email.subject,
      html: email.html,
      text: email.text,
      messageId: `<confirm-${tag}@${domain}>`,
      // Not a list message yet (the reader is not subscribed): no List-Unsubscribe. Auto-replies stay away.
      headers: { 'Auto-Submitted': 'auto-generated', 'X-Auto-Response-Suppress': 'All' },
    });
  }
}
