import { Controller, Get, Param, Post, Res, UseFilters, UseGuards } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { invalidLinkPage, unsubscribeConfirmPage, unsubscribedPage } from '../web/pages';
import { RateLimit, RateLimitGuard, TooManyRequestsPageFilter } from './rate-limit';
import { sendPage } from './self-service-pages.controller';
import { SelfServiceService } from './self-service.service';

/**
 * RFC 8058 one-click unsubscribe (the List-Unsubscribe URL, and the footer link). The POST works
 * without cookies or auth, whatever its body (urlencoded or multipart), and answers 200 with no
 * redirect; the GET only shows a button, because link scanners follow GETs. A bad link also gets
 * 200, so a mail provider's automated POST never sees an error page it would retry.
 */
@ApiExcludeController()
@Controller('unsubscribe')
@UseGuards(RateLimitGuard)
@UseFilters(TooManyRequestsPageFilter)
export class UnsubscribeController {
  constructor(private readonly selfService: SelfServiceService) {}

  @Get(':token')
  @RateLimit('public')
  show(@Param('token') token: string, @Res() res: Response): void {
    if (!this.selfService.subscriberFrom('unsubscribe', token)) return sendPage(res, 200, invalidLinkPage());
    sendPage(res, 200, unsubscribeConfirmPage(token));
  }

  @Post(':token')
  @RateLimit('public')
  async unsubscribe(@Param('token') token: string, @Res() res: Response): Promise<void> {
    const id = await this.selfService.unsubscribe('unsubscribe', token);
    if (!id) return sendPage(res, 200, invalidLinkPage());
    sendPage(res, 200, unsubscribedPage(this.selfService.manageToken(id)));
  }
}
