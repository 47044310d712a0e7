import { BadRequestException, Body, Controller, Get, HttpCode, Post, Query, UseGuards } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiBody, ApiOkResponse, ApiOperation, ApiQuery, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { AdminAuthGuard } from '../auth/admin-auth.guard';
import { AdminSendsService, DELIVERY_STATUSES } from './admin-sends.service';
import { digestParam } from './sends-pages.controller';

@ApiTags('admin: sends')
@ApiBearerAuth('admin')
@ApiUnauthorizedResponse({ description: 'No, unknown or revoked API token' })
@Controller('api/admin')
@UseGuards(AdminAuthGuard)
export class SendsApiController {
  constructor(private readonly sends: AdminSendsService) {}

  @Post('sends/dry-run')
  @HttpCode(200)
  @ApiOperation({ summary: 'What "send now" would do: emails, papers per email, and recipients to preview. Sends nothing.' })
  @ApiBody({ required: false, schema: { example: { digestId: 12 }, description: 'Omit digestId for everyone with undelivered papers; `{ "due": true }` for everyone due now (daily/weekly subscribers whose hour has come)' } })
  @ApiOkResponse({ schema: { example: { scope: { digestId: 12 }, emails: 1830, paused: 4, papers: 5120, distribution: [[1, 600], [2, 500], [3, 730]], sample: [{ subscriberId: '1b7c1a4e-4c53-4c4e-9f2b-6a3f1f3c2d10', email: 'ada@example.org', papers: 3 }] } } })
  dryRun(@Body() body: { digestId?: number; due?: boolean } = {}) {
    return this.sends.dryRun(body?.due === true ? { due: true } : { digestId: digestParam(body?.digestId) });
  }

  @Get('sends/preview')
  @ApiOperation({ summary: 'The exact email a subscriber would get if sent now (HTML, text, subject)' })
  @ApiQuery({ name: 'subscriber', description: 'Subscriber id', example: '1b7c1a4e-4c53-4c4e-9f2b-6a3f1f3c2d10' })
  @ApiOkResponse({ schema: { example: { to: 'ada@example.org', subject: '3 new papers on diffusion models', html: '<!doctype html>…', text: '…', papers: 3 } } })
  preview(@Query('subscriber') subscriber: string) {
    return this.sends.preview(String(subscriber ?? ''));
  }

  @Post('sends/test')
  @HttpCode(200)
  @ApiOperation({ summary: "Send a subscriber's email as a test to another address (links signed for a throwaway id; no delivery row)" })
  @ApiBody({ schema: { example: { subscriberId: '1b7c1a4e-4c53-4c4e-9f2b-6a3f1f3c2d10', to: 'editor@example.org' } } })
  @ApiOkResponse({ schema: { example: { to: 'editor@example.org', messageId: '<test-…@paperboy.admin>' } } })
  testSend(@Body() body: { subscriberId?: string; to?: string }) {
    return this.sends.testSend(String(body?.subscriberId ?? ''), String(body?.to ?? ''));
  }

  @Post('sends')
  @HttpCode(202)
  @ApiOperation({ summary: 'Send now: one email per subscriber with undelivered papers (of the digest, if given), or `{ "due": true }`: everyone due (issueKey is then null)' })
  @ApiBody({ required: false, schema: { example: { digestId: 12 } } })
  @ApiAcceptedResponse({ schema: { example: { issueKey: 'manual-2026-11-23T14:00:00.000Z', queued: 1830 } } })
  sendNow(@Body() body: { digestId?: number; due?: boolean } = {}) {
    return this.sends.sendNow(body?.due === true ? { due: true } : { digestId: digestParam(body?.digestId) });
  }

  @Get('sends/state')
  @ApiOperation({ summary: 'Whether sending is paused' })
  @ApiOkResponse({ schema: { example: { paused: false } } })
  async state() {
    return { paused: await this.sends.isPaused() };
  }

  @Post('sends/pause')
  @HttpCode(200)
  @ApiOperation({ summary: 'Pause sending (queued emails wait; every worker stops taking send jobs)' })
  @ApiOkResponse({ schema: { example: { paused: true } } })
  async pause() {
    await this.sends.pause();
    return { paused: true };
  }

  @Post('sends/resume')
  @HttpCode(200)
  @ApiOperation({ summary: 'Resume sending' })
  @ApiOkResponse({ schema: { example: { paused: false } } })
  async resume() {
    await this.sends.resume();
    return { paused: false };
  }

  @Post('sends/cancel')
  @HttpCode(200)
  @ApiOperation({ summary: "Cancel an issue's unsent emails (they become skipped; their papers wait for a later email)" })
  @ApiBody({ schema: { example: { issueKey: 'manual-2026-11-23T14:00:00.000Z' } } })
  @ApiOkResponse({ schema: { example: { cancelled: 1200 } } })
  async cancel(@Body() body: { issueKey?: string }) {
    return { cancelled: await this.sends.cancel(String(body?.issueKey ?? '')) };
  }

  @Get('deliveries')
  @ApiOperation({ summary: 'The delivery log, newest first (pass `next` back as `before`)' })
  @ApiQuery({ name: 'status', required: false, enum: DELIVERY_STATUSES })
  @ApiQuery({ name: 'subscriber', required: false, description: 'Exact address', example: 'ada@example.org' })
  @ApiQuery({ name: 'issue', required: false, example: 'digest-12' })
  @ApiQuery({ name: 'before', required: false, description: 'Delivery id to continue below' })
  @ApiQuery({ name: 'limit', required: false, example: 100 })
  @ApiOkResponse({ schema: { example: { rows: [{ id: 901, email: 'ada@example.org', subscriberId: '1b7c1a4e-…', issueKey: 'digest-12', status: 'sent', attempts: 1, paperCount: 3, smtpResponse: '250 2.0.0 Ok: queued', lastError: null, createdAt: '2026-11-23T14:00:00.000Z', sentAt: '2026-11-23T14:00:02.000Z' }], next: 801 } } })
  async deliveries(@Query() q: Record<string, string>) {
    const r = await this.sends.deliveryLog(q);
    return { rows: r.rows, next: r.next };
  }

  @Post('deliveries/retry')
  @HttpCode(200)
  @ApiOperation({ summary: 'Queue failed deliveries again (all, or the given ids)' })
  @ApiBody({ required: false, schema: { example: { ids: [901, 902] } } })
  @ApiOkResponse({ schema: { example: { queued: 2 } } })
  async retry(@Body() body: { ids?: unknown } = {}) {
    const ids = body?.ids;
    if (ids !== undefined && !(Array.isArray(ids) && ids.every((i) => Number.isInteger(i) && i > 0))) throw new BadRequestException('ids: an array of delivery ids');
    return { queued: await this.sends.retryFailed(ids as number[] | undefined) };
  }
}
