import { Body, Controller, Get, Param, Post, Query, Req, Res, UseFilters, UseGuards } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { PAGE_CSP } from '../web/html';
import {
  checkInboxPage,
  confirmedPage,
  confirmPage,
  erasedPage,
  FormValues,
  invalidLinkPage,
  managePage,
  resubscribedPage,
  subscribePage,
  unsubscribedPage,
} from '../web/pages';
import { PREVIEW_DAYS, PreviewService } from './preview.service';
import { RateLimit, RateLimitGuard, TooManyRequestsPageFilter } from './rate-limit';
import { SelfServiceService } from './self-service.service';
import { FORM_VERSION, InputErrors, parsePauseUntil, parsePreferences, parseSubscription } from './subscription-input';

/** Sends a page: never cached (tokens live in these URLs), never framed, no inline script. */
export function sendPage(res: Response, status: number, html: string): void {
  res.status(status).set({
    'Content-Type': 'text/html; charset=utf-8',
    'Cache-Control': 'no-store',
    'Content-Security-Policy': PAGE_CSP,
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'no-referrer',
  });
  res.send(html);
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : Array.isArray(v) && typeof v[0] === 'string' ? v[0] : undefined);
function formValues(body: Record<string, unknown>): FormValues {
  return { email: str(body.email), topics: str(body.topics), frequency: str(body.frequency), timezone: str(body.timezone), sendHour: str(body.sendHour) };
}
const formBody = (b: unknown): Record<string, unknown> => (b && typeof b === 'object' && !Array.isArray(b) ? (b as Record<string, unknown>) : {});

/** Bad, expired and unknown tokens all get this one answer. */
const INVALID_STATUS = 404;

/**
 * The server-rendered pages: subscribe (with preview), check-your-inbox, confirm, and the
 * preference centre. Every GET only reads; every change is a POST (link scanners follow GETs).
 */
@ApiExcludeController()
@Controller()
@UseGuards(RateLimitGuard)
@UseFilters(TooManyRequestsPageFilter)
export class SelfServicePagesController {
  constructor(
    private readonly selfService: SelfServiceService,
    private readonly previews: PreviewService,
  ) {}

  @Get()
  home(@Res() res: Response): void {
    sendPage(res, 200, subscribePage({ previewDays: PREVIEW_DAYS }));
  }

  /** The form posts here; "Preview matches" (no JavaScript) re-renders the form with the preview. */
  @Post('subscribe')
  @RateLimit('subscribe')
  async subscribe(@Body() raw: unknown, @Req() req: Request, @Res() res: Response): Promise<void> {
    const body = formBody(raw);
    const values = formValues(body);
    if (body.action === 'preview') {
      sendPage(res, 200, subscribePage({ values, previews: await this.previews.preview(values.topics ?? ''), previewDays: PREVIEW_DAYS }));
      return;
    }
    try {
      const input = parseSubscription(body);
      await this.selfService.requestSubscription(input, { source: 'form', formVersion: FORM_VERSION, ip: req.ip });
    } catch (e) {
      if (!(e instanceof InputErrors)) throw e;
      sendPage(res, 400, subscribePage({ values, errors: e.fields, previews: await this.previews.preview(values.topics ?? ''), previewDays: PREVIEW_DAYS }));
      return;
    }
    res.redirect(303, '/check-inbox');
  }

  @Get('check-inbox')
  checkInbox(@Res() res: Response): void {
    sendPage(res, 200, checkInboxPage());
  }

  /** A GET confirms nothing (mail scanners follow links): it shows the button. */
  @Get('confirm/:token')
  @RateLimit('public')
  async showConfirm(@Param('token') token: string, @Res() res: Response): Promise<void> {
    if (!(await this.selfService.checkConfirm(token))) return sendPage(res, INVALID_STATUS, invalidLinkPage());
    sendPage(res, 200, confirmPage(token));
  }

  @Post('confirm/:token')
  @RateLimit('public')
  async confirm(@Param('token') token: string, @Res() res: Response): Promise<void> {
    const id = await this.selfService.confirm(token);
    if (!id) return sendPage(res, INVALID_STATUS, invalidLinkPage());
    sendPage(res, 200, confirmedPage(this.selfService.manageToken(id)));
  }

  @Get('manage/:token')
  @RateLimit('public')
  async manage(@Param('token') token: string, @Query('done') done: string | undefined, @Res() res: Response): Promise<void> {
    const prefs = await this.selfService.preferences(token);
    if (!prefs) return sendPage(res, INVALID_STATUS, invalidLinkPage());
    const notice = { saved: 'Your changes are saved.', paused: 'Paused.', resumed: 'Emails are back on.' }[done ?? ''];
    sendPage(res, 200, managePage({ token, prefs, notice }));
  }

  @Post('manage/:token')
  @RateLimit('public')
  async update(@Param('token') token: string, @Body() raw: unknown, @Res() res: Response): Promise<void> {
    const prefs = await this.selfService.preferences(token);
    if (!prefs) return sendPage(res, INVALID_STATUS, invalidLinkPage());
    const body = formBody(raw);
    try {
      await this.selfService.updatePreferences(token, parsePreferences(body));
    } catch (e) {
      if (!(e instanceof InputErrors)) throw e;
      return sendPage(res, 400, managePage({ token, prefs, values: formValues(body), errors: e.fields }));
    }
    res.redirect(303, `/manage/${encodeURIComponent(token)}?done=saved`);
  }

  @Post('manage/:token/pause')
  @RateLimit('public')
  async pause(@Param('token') token: string, @Body() raw: unknown, @Res() res: Response): Promise<void> {
    const prefs = await this.selfService.preferences(token);
    if (!prefs) return sendPage(res, INVALID_STATUS, invalidLinkPage());
    let until: Date | null;
    try {
      until = parsePauseUntil(formBody(raw).until);
    } catch (e) {
      if (!(e instanceof InputErrors)) throw e;
      return sendPage(res, 400, managePage({ token, prefs, errors: e.fields }));
    }
    await this.selfService.pause(token, until);
    res.redirect(303, `/manage/${encodeURIComponent(token)}?done=${until ? 'paused' : 'resumed'}`);
  }

  @Post('manage/:token/unsubscribe')
  @RateLimit('public')
  async unsubscribe(@Param('token') token: string, @Res() res: Response): Promise<void> {
    const id = await this.selfService.unsubscribe('manage', token);
    if (!id) return sendPage(res, INVALID_STATUS, invalidLinkPage());
    // Same page as the one-click link, with its one-click way back.
    sendPage(res, 200, unsubscribedPage(token));
  }

  @Post('manage/:token/resubscribe')
  @RateLimit('public')
  async resubscribe(@Param('token') token: string, @Res() res: Response): Promise<void> {
    if (!(await this.selfService.resubscribe(token))) return sendPage(res, INVALID_STATUS, invalidLinkPage());
    sendPage(res, 200, resubscribedPage(token));
  }

  /** A download, not a change: a GET is right here. */
  @Get('manage/:token/data.json')
  @RateLimit('public')
  async data(@Param('token') token: string, @Res() res: Response): Promise<void> {
    const data = await this.selfService.export(token);
    if (!data) return sendPage(res, INVALID_STATUS, invalidLinkPage());
    res
      .status(200)
      .set({ 'Content-Type': 'application/json; charset=utf-8', 'Content-Disposition': 'attachment; filename="paperboy-data.json"', 'Cache-Control': 'no-store' })
      .send(JSON.stringify(data, null, 2));
  }

  @Post('manage/:token/delete')
  @RateLimit('public')
  async erase(@Param('token') token: string, @Body() raw: unknown, @Res() res: Response): Promise<void> {
    const prefs = await this.selfService.preferences(token);
    if (!prefs) return sendPage(res, INVALID_STATUS, invalidLinkPage());
    if (str(formBody(raw).confirm) !== 'yes') {
      return sendPage(res, 400, managePage({ token, prefs, errors: { confirm: 'tick the box to confirm you want your data deleted' } }));
    }
    await this.selfService.erase(token);
    sendPage(res, 200, erasedPage());
  }
}
