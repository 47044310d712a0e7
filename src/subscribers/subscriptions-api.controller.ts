import { Body, Controller, Delete, Get, Headers, HttpCode, NotFoundException, Post, Put, Req, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { AlertPreview, PREVIEW_DAYS, PreviewService } from './preview.service';
import { RateLimit, RateLimitGuard } from './rate-limit';
import { SelfServiceService } from './self-service.service';
import { API_VERSION, FREQUENCIES, parsePauseUntil, parsePreferences, parseSubscription } from './subscription-input';
import { MAX_TOPICS_PER_SUBSCRIBER } from './subscribers.service';

/** The one answer to every subscribe request, whatever the address's state. */
export const ACCEPTED = {
  status: 'accepted',
  message: 'If this address can receive email, a confirmation link is on its way. Nothing else is sent until it is confirmed.',
} as const;

const INVALID_TOKEN = 'This link is not valid or has expired.';

const schedule = {
  frequency: { type: 'string', enum: [...FREQUENCIES], default: 'daily' },
  timezone: { type: 'string', example: 'Europe/Paris', default: 'UTC', description: 'IANA time zone' },
  sendHour: { type: 'integer', minimum: 0, maximum: 23, default: 8, description: 'Local hour of daily and weekly emails' },
};
const topicsSchema = {
  type: 'array',
  minItems: 1,
  maxItems: MAX_TOPICS_PER_SUBSCRIBER,
  items: { type: 'string', maxLength: 256 },
  example: ['diffusion models', '"neural collapse"', 'title:pruning -survey'],
};
const errorSchema = { type: 'object', properties: { statusCode: { type: 'integer' }, error: { type: 'string' }, message: { type: 'string' }, fields: { type: 'object', additionalProperties: { type: 'string' } } } };
const preferencesSchema = {
  type: 'object',
  properties: {
    email: { type: 'string' },
    status: { type: 'string', enum: ['active', 'unsubscribed', 'pending', 'suspended', 'bounced'] },
    topics: { type: 'array', items: { type: 'string' } },
    ...schedule,
    pausedUntil: { type: 'string', format: 'date-time', nullable: true },
  },
};

function bearer(authorization: string | undefined): string {
  const m = /^Bearer ([A-Za-z0-9._~-]{1,200})$/.exec(authorization ?? '');
  return m ? m[1] : '';
}

/**
 * The JSON API for the same actions as the pages. Actions on a subscription take the manage
 * token from an email as `Authorization: Bearer <token>` (kept out of URLs and access logs).
 */
@ApiTags('subscriptions')
@Controller('api')
@UseGuards(RateLimitGuard)
export class SubscriptionsApiController {
  constructor(
    private readonly selfService: SelfServiceService,
    private readonly previews: PreviewService,
  ) {}

  @Post('subscriptions')
  @HttpCode(202)
  @RateLimit('subscribe')
  @ApiOperation({ summary: 'Subscribe (double opt-in)', description: 'Always answers 202 with the same body: whether the address is new, pending, active or unsubscribed is never revealed. A confirmation email follows (at most CONFIRM_EMAILS_PER_DAY per address per day).' })
  @ApiBody({ schema: { type: 'object', required: ['email', 'topics'], properties: { email: { type: 'string', format: 'email', maxLength: 254 }, topics: topicsSchema, ...schedule } } })
  @ApiResponse({ status: 202, description: 'Accepted', schema: { type: 'object', properties: { status: { type: 'string', enum: ['accepted'] }, message: { type: 'string' } } } })
  @ApiResponse({ status: 400, description: 'A field is invalid (the message names it)', schema: errorSchema })
  @ApiResponse({ status: 413, description: 'Body larger than 16 kB' })
  @ApiResponse({ status: 429, description: 'Rate limited (Retry-After says when to come back)' })
  async subscribe(@Body() body: unknown, @Req() req: Request): Promise<typeof ACCEPTED> {
    await this.selfService.requestSubscription(parseSubscription(body), { source: 'api', formVersion: API_VERSION, ip: req.ip });
    return ACCEPTED;
  }

  @Post('preview')
  @HttpCode(200)
  @RateLimit('preview')
  @ApiOperation({ summary: `Which papers of the last ${PREVIEW_DAYS} days each alert would have matched` })
  @ApiBody({ schema: { type: 'object', required: ['topics'], properties: { topics: topicsSchema } } })
  @ApiResponse({ status: 200, schema: { type: 'object', properties: { days: { type: 'integer' }, alerts: { type: 'array', items: { type: 'object', properties: { topic: { type: 'string' }, error: { type: 'string', nullable: true }, total: { type: 'integer' }, papers: { type: 'array', items: { type: 'object' } } } } } } } })
  async preview(@Body() body: { topics?: unknown } | undefined): Promise<{ days: number; alerts: AlertPreview[] }> {
    return { days: PREVIEW_DAYS, alerts: await this.previews.preview(body?.topics ?? []) };
  }

  @Post('confirmations')
  @HttpCode(200)
  @RateLimit('public')
  @ApiOperation({ summary: 'Confirm a subscription with the token from the confirmation email' })
  @ApiBody({ schema: { type: 'object', required: ['token'], properties: { token: { type: 'string' } } } })
  @ApiResponse({ status: 200, schema: { type: 'object', properties: { status: { type: 'string', enum: ['active'] }, manageToken: { type: 'string' } } } })
  @ApiResponse({ status: 404, description: 'Bad, expired or unknown token (one answer for all)' })
  async confirm(@Body() body: { token?: unknown } | undefined): Promise<{ status: 'active'; manageToken: string }> {
    const id = typeof body?.token === 'string' ? await this.selfService.confirm(body.token) : null;
    if (!id) throw new NotFoundException(INVALID_TOKEN);
    return { status: 'active', manageToken: this.selfService.manageToken(id) };
  }

  @Get('preferences')
  @RateLimit('public')
  @ApiBearerAuth('manage')
  @ApiOperation({ summary: 'Read your preferences' })
  @ApiResponse({ status: 200, schema: preferencesSchema })
  @ApiResponse({ status: 404, description: 'Bad, expired or unknown token' })
  async preferences(@Headers('authorization') auth?: string) {
    const p = await this.selfService.preferences(bearer(auth));
    if (!p) throw new NotFoundException(INVALID_TOKEN);
    return { email: p.email, status: p.status, topics: p.topics, frequency: p.frequency, timezone: p.timezone, sendHour: p.sendHour, pausedUntil: p.pausedUntil };
  }

  @Put('preferences')
  @RateLimit('public')
  @ApiBearerAuth('manage')
  @ApiOperation({ summary: 'Change topics, frequency, send hour and time zone' })
  @ApiBody({ schema: { type: 'object', required: ['topics'], properties: { topics: topicsSchema, ...schedule } } })
  @ApiResponse({ status: 200, schema: preferencesSchema })
  @ApiResponse({ status: 400, schema: errorSchema })
  @ApiResponse({ status: 404, description: 'Bad, expired or unknown token' })
  async update(@Body() body: unknown, @Headers('authorization') auth?: string) {
    const token = bearer(auth);
    if (!(await this.selfService.preferences(token))) throw new NotFoundException(INVALID_TOKEN);
    await this.selfService.updatePreferences(token, parsePreferences(body));
    return this.preferences(auth);
  }

  @Post('preferences/pause')
  @HttpCode(200)
  @RateLimit('public')
  @ApiBearerAuth('manage')
  @ApiOperation({ summary: 'Pause until a date (YYYY-MM-DD), or resume with null' })
  @ApiBody({ schema: { type: 'object', properties: { until: { type: 'string', format: 'date', nullable: true } } } })
  @ApiResponse({ status: 200, schema: preferencesSchema })
  async pause(@Body() body: { until?: unknown } | undefined, @Headers('authorization') auth?: string) {
    const token = bearer(auth);
    if (!(await this.selfService.preferences(token))) throw new NotFoundException(INVALID_TOKEN);
    await this.selfService.pause(token, parsePauseUntil(body?.until));
    return this.preferences(auth);
  }

  @Post('preferences/unsubscribe')
  @HttpCode(200)
  @RateLimit('public')
  @ApiBearerAuth('manage')
  @ApiOperation({ summary: 'Unsubscribe (idempotent)' })
  @ApiResponse({ status: 200, schema: preferencesSchema })
  async unsubscribe(@Headers('authorization') auth?: string) {
    if (!(await this.selfService.unsubscribe('manage', bearer(auth)))) throw new NotFoundException(INVALID_TOKEN);
    return this.preferences(auth);
  }

  @Post('preferences/resubscribe')
  @HttpCode(200)
  @RateLimit('public')
  @ApiBearerAuth('manage')
  @ApiOperation({ summary: 'Re-subscribe after unsubscribing (one click, no new confirmation)' })
  @ApiResponse({ status: 200, schema: preferencesSchema })
  async resubscribe(@Headers('authorization') auth?: string) {
    if (!(await this.selfService.resubscribe(bearer(auth)))) throw new NotFoundException(INVALID_TOKEN);
    return this.preferences(auth);
  }

  @Get('preferences/export')
  @RateLimit('public')
  @ApiBearerAuth('manage')
  @ApiOperation({ summary: 'Everything we hold about you, as JSON' })
  async export(@Headers('authorization') auth?: string) {
    const data = await this.selfService.export(bearer(auth));
    if (!data) throw new NotFoundException(INVALID_TOKEN);
    return data;
  }

  @Delete('preferences')
  @HttpCode(204)
  @RateLimit('public')
  @ApiBearerAuth('manage')
  @ApiOperation({ summary: 'Erase your data; only a keyed hash of the address stays, as a suppression' })
  @ApiResponse({ status: 204, description: 'Erased' })
  async erase(@Headers('authorization') auth?: string): Promise<void> {
    if (!(await this.selfService.erase(bearer(auth)))) throw new NotFoundException(INVALID_TOKEN);
  }
}
