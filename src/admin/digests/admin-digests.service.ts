import { BadRequestException, Injectable, NotFoundException } from '@nestjs/common';
import { DigestFormatError, IngestResult } from '../../ingestion/digest.types';
import { IngestionService } from '../../ingestion/ingestion.service';
import { AdminDigestsRepository } from './admin-digests.repository';

@Injectable()
export class AdminDigestsService {
  constructor(
    private readonly repo: AdminDigestsRepository,
    private readonly ingestion: IngestionService,
  ) {}

  async list(q: { before?: unknown; limit?: unknown }) {
    const limit = Math.min(Math.max(Number(q.limit) || 50, 1), 200);
    const before = Number(q.before) > 0 ? Number(q.before) : undefined;
    const rows = await this.repo.list(limit + 1, before);
    const more = rows.length > limit;
    if (more) rows.pop();
    return { rows, next: more ? rows[rows.length - 1].id : null };
  }

  async detail(id: number) {
    const digest = await this.repo.digest(id);
    if (!digest) throw new NotFoundException('no such digest');
    const [papers, topics] = await Promise.all([this.repo.papers(id), this.repo.topicCounts(id)]);
    return { ...digest, papers, topics };
  }

  /** A daily-papers page (text) or a JSON digest, told apart by content; format errors become 400s naming the line or field. */
  async upload(text: string, opts: { year?: number; source?: string }): Promise<IngestResult> {
    if (!text.trim()) throw new BadRequestException('file: empty');
    try {
      if (/^\s*[{[]/.test(text)) {
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch (e) {
          throw new DigestFormatError(`not valid JSON (${(e as Error).message})`);
        }
        return await this.ingestion.importJson(body, { year: opts.year });
      }
      return await this.ingestion.importPage(text, { year: opts.year, source: opts.source });
    } catch (e) {
      if (e instanceof DigestFormatError) throw new BadRequestException(e.message);
      throw e;
    }
  }
}
