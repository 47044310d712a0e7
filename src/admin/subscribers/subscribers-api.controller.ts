import { applyDecorators, Body, Controller, Delete, Get, HttpCode, NotFoundException, Param, Patch, Post, Query, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOkResponse, ApiOperation, ApiParam, ApiProduces, ApiQuery, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import type { Response } from 'express';
import { AdminAuthGuard } from '../auth/admin-auth.guard';
import { AdminSubscribersService, FREQUENCIES, ListQuery, STATUSES } from './admin-subscribers.service';
import { streamCsv } from './subscribers-pages.controller';
import { SORTS } from './admin-subscribers.repository';

const SUBSCRIBER_EXAMPLE = {
  id: '1b7c1a4e-4c53-4c4e-9f2b-6a3f1f3c2d10',
  email: 'ada@example.org',
  status: 'active',
  frequency: 'daily',
  createdAt: '2026-11-20T08:00:00.000Z',
  confirmedAt: '2026-11-20T08:05:00.000Z',
  timezone: 'Europe/London',
  topics: ['diffusion models', 'retrieval augmented generation'],
};

const ListFilters = () =>
  applyDecorators(
    ApiQuery({ name: 'q', required: false, description: 'Substring of the email address', example: '@example.org' }),
    ApiQuery({ name: 'topic', required: false, description: 'Substring of an alert', example: 'diffusion' }),
    ApiQuery({ name: 'status', required: false, enum: STATUSES }),
    ApiQuery({ name: 'frequency', required: false, enum: FREQUENCIES }),
  );

@ApiTags('admin: subscribers')
@ApiBearerAuth('admin')
@ApiUnauthorizedResponse({ description: 'No, unknown or revoked API token' })
@Controller('api/admin/subscribers')
@UseGuards(AdminAuthGuard)
export class SubscribersApiController {
  constructor(private readonly subscribers: AdminSubscribersService) {}

  @Get()
  @ApiOperation({ summary: 'List and search subscribers (keyset pagination: pass `next` back as `after`)' })
  @ListFilters()
  @ApiQuery({ name: 'sort', required: false, enum: SORTS })
  @ApiQuery({ name: 'after', required: false, description: 'The `next` cursor of the previous page' })
  @ApiQuery({ name: 'limit', required: false, example: 50, description: '1–500, default 50' })
  @ApiOkResponse({ schema: { example: { rows: [SUBSCRIBER_EXAMPLE], next: 'WyIyMDI2LTExLTIwVDA4OjAwOjAwLjAwMFoiLCIxYjdj…', estimatedTotal: 1000000 } } })
  async list(@Query() query: ListQuery) {
    const page = await this.subscribers.list(query);
    return { rows: page.rows, next: page.next, estimatedTotal: page.estimatedTotal };
  }

  @Get('export.csv')
  @ApiOperation({ summary: 'Export the filtered list as CSV' })
  @ApiProduces('text/csv')
  @ListFilters()
  @ApiOkResponse({ description: 'CSV: email,status,frequency,timezone,created_at,confirmed_at,topics' })
  async export(@Query() query: ListQuery, @Res() res: Response): Promise<void> {
    await streamCsv(res, this.subscribers.exportCsv(query));
  }

  @Get(':id')
  @ApiOperation({ summary: 'A subscriber with topics, consent record, deliveries and matched papers' })
  @ApiParam({ name: 'id', example: SUBSCRIBER_EXAMPLE.id })
  @ApiOkResponse({ schema: { example: { ...SUBSCRIBER_EXAMPLE, topics: [{ label: 'diffusion models', topic: { query: 'diffusion models' } }], consents: [], deliveries: [], matches: [] } } })
  detail(@Param('id') id: string) {
    return this.subscribers.detail(id);
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Change topics and frequency (recorded in the consent history as an admin update)' })
  @ApiBody({ schema: { example: { frequency: 'weekly', topics: ['diffusion models', 'graph neural networks'] } } })
  @ApiOkResponse({ schema: { example: { ok: true } } })
  async update(@Param('id') id: string, @Body() body: { frequency?: string; topics?: string[] }) {
    await this.subscribers.update(id, body);
    return { ok: true };
  }

  @Post(':id/:action')
  @HttpCode(200)
  @ApiOperation({ summary: 'suspend (active → suspended), resume (suspended → active) or unsubscribe' })
  @ApiParam({ name: 'action', enum: ['suspend', 'resume', 'unsubscribe'] })
  @ApiOkResponse({ schema: { example: { changed: true } } })
  async act(@Param('id') id: string, @Param('action') action: string) {
    if (!['suspend', 'resume', 'unsubscribe'].includes(action)) throw new NotFoundException();
    return { changed: await this.subscribers.act(id, action as 'suspend' | 'resume' | 'unsubscribe') };
  }

  @Delete(':id')
  @ApiOperation({ summary: 'Erase a subscriber (as self-service erasure: only a keyed hash of the address stays, as a suppression)' })
  @ApiOkResponse({ schema: { example: { erased: true } } })
  async erase(@Param('id') id: string) {
    return { erased: await this.subscribers.act(id, 'erase') };
  }
}
