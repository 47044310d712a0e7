import { BadRequestException, Body, Controller, Get, Param, ParseIntPipe, Post, Query, Res, UploadedFile, UseGuards, UseInterceptors } from '@nestjs/common';
import { FileInterceptor } from '@nestjs/platform-express';
import { ApiBearerAuth, ApiBody, ApiConsumes, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiQuery, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import type { Response } from 'express';
import { AdminAuthGuard } from '../auth/admin-auth.guard';
import { AdminDigestsService } from './admin-digests.service';
import { UPLOAD_LIMITS, UploadedText, yearParam } from './digests-pages.controller';

@ApiTags('admin: digests')
@ApiBearerAuth('admin')
@ApiUnauthorizedResponse({ description: 'No, unknown or revoked API token' })
@Controller('api/admin/digests')
@UseGuards(AdminAuthGuard)
export class DigestsApiController {
  constructor(private readonly digests: AdminDigestsService) {}

  @Get()
  @ApiOperation({ summary: 'Digests, newest first (pass `next` back as `before`)' })
  @ApiQuery({ name: 'before', required: false })
  @ApiQuery({ name: 'limit', required: false, example: 50 })
  @ApiOkResponse({ schema: { example: { rows: [{ id: 12, source: 'daily-papers', digestDate: '2026-11-20T00:00:00.000Z', status: 'composed', paperCount: 39, createdAt: '2026-11-20T07:00:00.000Z', matchedAt: '2026-11-20T07:00:04.000Z', matches: 5120, subscribers: 1830 }], next: null } } })
  list(@Query() q: Record<string, string>) {
    return this.digests.list(q);
  }

  @Get(':id')
  @ApiOperation({ summary: 'A digest: its papers (with subscribers matched per paper) and per-topic counts' })
  @ApiOkResponse({ schema: { example: { id: 12, source: 'daily-papers', status: 'composed', paperCount: 39, papers: [{ id: 7, title: 'Denoising diffusion…', position: 0, subscribers: 420, topics: 12 }], topics: [{ query: 'diffusion models', papers: 4, subscribers: 380 }] } } })
  detail(@Param('id', ParseIntPipe) id: number) {
    return this.digests.detail(id);
  }

  @Post()
  @UseInterceptors(FileInterceptor('file', UPLOAD_LIMITS))
  @ApiOperation({ summary: 'Upload a daily-papers page (text) or a JSON digest to ingest (matching is queued)' })
  @ApiConsumes('multipart/form-data')
  @ApiBody({ schema: { type: 'object', required: ['file'], properties: { file: { type: 'string', format: 'binary' }, year: { type: 'integer', example: 2026 }, source: { type: 'string', example: 'daily-papers' } } } })
  @ApiCreatedResponse({ schema: { example: { digestId: 12, created: true, source: 'daily-papers', date: '2026-11-20', papers: 39, newPapers: 39, updatedPapers: 0 } } })
  async upload(@UploadedFile() file: UploadedText | undefined, @Body() body: Record<string, string>, @Res({ passthrough: true }) res: Response) {
    if (!file) throw new BadRequestException('file: attach the page or JSON as "file"');
    const r = await this.digests.upload(file.buffer.toString('utf8'), { year: yearParam(body?.year), source: body?.source?.trim() || undefined });
    res.status(r.created ? 201 : 200);
    return r;
  }
}
