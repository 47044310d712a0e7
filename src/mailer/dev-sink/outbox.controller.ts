import { Controller, Get, Header, NotFoundException, Param, Res } from '@nestjs/common';
import type { Response } from 'express';
import { MailTransport } from '../../infra/mail/mail-transport.service';
import {
  InvalidMessageIdError,
  listMessages,
  MessageNotFoundError,
  OUTBOX_PAGE_CSP,
  readMessage,
  readRawMessage,
  renderOutboxIndexPage,
  renderOutboxMessagePage,
} from './outbox-reader';

/** Development only (not mounted when NODE_ENV=production): browse what the embedded sink received. */
@Controller('dev/outbox')
export class OutboxController {
  constructor(private readonly transport: MailTransport) {}

  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Content-Security-Policy', OUTBOX_PAGE_CSP)
  async index(): Promise<string> {
    return renderOutboxIndexPage(await listMessages(this.transport.outboxDir));
  }

  @Get(':id')
  async message(@Param('id') id: string, @Res() res: Response): Promise<void> {
    try {
      if (id.endsWith('.eml')) {
        const raw = await readRawMessage(this.transport.outboxDir, id.slice(0, -4));
        res.type('message/rfc822').set('Content-Disposition', `attachment; filename="${id}"`).send(raw);
        return;
      }
      const msg = await readMessage(this.transport.outboxDir, id);
      res.type('html').set('Content-Security-Policy', OUTBOX_PAGE_CSP).send(renderOutboxMessagePage(msg));
    } catch (e) {
      if (e instanceof InvalidMessageIdError || e instanceof MessageNotFoundError) throw new NotFoundException('no such message');
      throw e;
    }
  }
}
