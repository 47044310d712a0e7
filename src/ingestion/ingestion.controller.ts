import { Body, Controller, Headers, Post, Query, Res, UnsupportedMediaTypeException } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiOperation, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { DigestFormatError, IngestResult } from './digest.types';
import { IngestionService } from './ingestion.service';

function yearParam(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const y = Number(raw);
  if (!Number.isInteger(y) || y < 1990 || y > 2100) throw new DigestFormatError('year: must be a year between 1990 and 2100', undefined, 'year');
  return y;
}

/** 201 for a new digest, 200 when it was already ingested (a no-op). */
function created(res: Response, result: IngestResult): IngestResult {
  res.status(result.created ? 201 : 200);
  return result;
}

@ApiTags('ingestion')
@ApiResponse({ status: 201, description: 'A new digest was stored (matching is queued)' })
@ApiResponse({ status: 200, description: 'Already ingested: a no-op' })
@ApiResponse({ status: 400, description: 'Malformed input; the message names the line or field' })
@ApiResponse({ status: 415, description: 'Wrong content type' })
@Controller('api/digests')
export class IngestionController {
  constructor(private readonly ingestion: IngestionService) {}

  /** A digest as JSON: `{ date, source?, year?, papers: [{ title, abstract, url?, arxivId?, authors? }] }`. */
  @Post()
  @ApiOperation({ summary: 'Ingest a digest as JSON' })
  @ApiBody({ schema: { type: 'object', required: ['date', 'papers'], properties: { date: { type: 'string', format: 'date' }, source: { type: 'string' }, year: { type: 'integer' }, papers: { type: 'array', items: { type: 'object', required: ['title', 'abstract'], properties: { title: { type: 'string' }, abstract: { type: 'string' }, url: { type: 'string' }, arxivId: { type: 'string' }, authors: { type: 'array', items: { type: 'string' } } } } } } } })
  async create(@Body() body: unknown, @Res({ passthrough: true }) res: Response, @Headers('content-type') type?: string): Promise<IngestResult> {
    if (!type?.startsWith('application/json')) throw new UnsupportedMediaTypeException('send the digest as application/json');
    return created(res, await this.ingestion.importJson(body));
  }

  /** A daily-papers page as text/plain, exactly as saved from the site. `?year=` pins year-less dates. */
  @Post('import')
  @ApiOperation({ summary: 'Ingest a daily-papers page saved as text' })
  @ApiConsumes('text/plain')
  @ApiBody({ schema: { type: 'string' } })
  @ApiQuery({ name: 'year', required: false, type: Number, description: 'Pins year-less dates' })
  async importPage(
    @Body() body: unknown,
    @Res({ passthrough: true }) res: Response,
    @Headers('content-type') type?: string,
    @Query('year') year?: string,
  ): Promise<IngestResult> {
    if (!type?.startsWith('text/plain') || typeof body !== 'string') throw new UnsupportedMediaTypeException('send the page as text/plain');
    return created(res, await this.ingestion.importPage(body, { year: yearParam(year) }));
  }
}
