import { Body, Controller, Headers, Post, Query, Res, UnsupportedMediaTypeException } from '@nestjs/common';
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

@Controller('api/digests')
export class IngestionController {
  constructor(private readonly ingestion: IngestionService) {}

  /** A digest as JSON: `{ date, source?, year?, papers: [{ title, abstract, url?, arxivId?, authors? }] }`. */
  @Post()
  async create(@Body() body: unknown, @Res({ passthrough: true }) res: Response, @Headers('content-type') type?: string): Promise<IngestResult> {
    if (!type?.startsWith('application/json')) throw new UnsupportedMediaTypeException('send the digest as application/json');
    return created(res, await this.ingestion.importJson(body));
  }

  /** A daily-papers page as text/plain, exactly as saved from the site. `?year=` pins year-less dates. */
  @Post('import')
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
