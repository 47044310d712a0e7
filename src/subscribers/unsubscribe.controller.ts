import { Controller, Get, Header, HttpCode, Param, Post } from '@nestjs/common';
import { escapeHtml, page } from '../web/html';
import { SubscribersService } from './subscribers.service';
import { TokensService } from './tokens.service';

const INVALID = page(
  'Link not valid',
  '<h1>This link is not valid</h1><p>It may be mistyped or too old. The latest email from us has a working unsubscribe link.</p>',
);

/**
 * RFC 8058 one-click unsubscribe. The POST works without cookies or auth and answers 200 (no
 * redirect); the GET only shows a button, because link scanners follow GETs.
 */
@Controller('unsubscribe')
export class UnsubscribeController {
  constructor(
    private readonly subscribers: SubscribersService,
    private readonly tokens: TokensService,
  ) {}

  @Get(':token')
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Cache-Control', 'no-store')
  show(@Param('token') token: string): string {
    if (!this.tokens.verify('unsubscribe', token)) return INVALID;
    return page(
      'Unsubscribe',
      `<h1>Unsubscribe from Paperboy?</h1><p>You will get no more paper alerts at this address.</p>
<form method="post" action="/unsubscribe/${escapeHtml(encodeURIComponent(token))}"><input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit">Unsubscribe</button></form>`,
    );
  }

  @Post(':token')
  @HttpCode(200)
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Cache-Control', 'no-store')
  async unsubscribe(@Param('token') token: string): Promise<string> {
    const id = this.tokens.verify('unsubscribe', token);
    if (!id || !(await this.subscribers.unsubscribe(id))) return INVALID;
    return page('Unsubscribed', '<h1>You are unsubscribed</h1><p>We will not email you again. Sorry to see you go.</p>');
  }
}
