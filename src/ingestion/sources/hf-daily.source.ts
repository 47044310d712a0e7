import { DigestFormatError, PaperInput } from '../digest.types';
import { formatIsoDate } from '../parsers/digest-date';
import { normalizeArxivId, safeHttpUrl } from '../parsers/paper-identity';
import { authorList, boundedText, isObject } from './source-text';
import { DAY_MS, DayRange, daysOf, Fetcher, PaperSource, ParsedItems, SourceBatch, utcDay } from './source.types';

export const HF_SOURCE = 'hf-daily';
/** The API's page size cap; a shorter page is the last one. */
export const HF_PAGE_SIZE = 100;
const MAX_PAGES = 20;

/**
 * One page of `GET /api/daily_papers?date=YYYY-MM-DD`: an array of
 * `{ paper: { id, title, summary, authors: [{ name }], publishedAt, upvotes, githubRepo?, projectPage? }, … }`.
 * Pure: throws DigestFormatError for a body that is not such an array; drops (and counts) bad items.
 */
export function parseHfDailyPapers(body: string): ParsedItems<PaperInput> & { count: number } {
  let data: unknown;
  try {
    data = JSON.parse(body);
  } catch (e) {
    throw new DigestFormatError(`Hugging Face daily papers: not valid JSON (${(e as Error).message.slice(0, 200)})`);
  }
  if (!Array.isArray(data)) throw new DigestFormatError('Hugging Face daily papers: expected a JSON array of papers');
  const out: ParsedItems<PaperInput> & { count: number } = { items: [], skipped: 0, problems: [], count: data.length };
  data.forEach((item, i) => {
    const r = hfPaper(item);
    if (typeof r === 'string') {
      out.skipped++;
      if (out.problems.length < 5) out.problems.push(`item ${i}: ${r}`);
    } else out.items.push(r);
  });
  return out;
}

function hfPaper(item: unknown): PaperInput | string {
  if (!isObject(item) || !isObject(item.paper)) return 'no "paper" object';
  const p = item.paper;
  const title = boundedText(p.title, 'title');
  if (typeof title !== 'string') return title.problem;
  const abstract = boundedText(p.summary, 'abstract');
  if (typeof abstract !== 'string') return abstract.problem;
  const arxivId = typeof p.id === 'string' ? normalizeArxivId(p.id) : null;
  const authors = Array.isArray(p.authors) ? authorList(p.authors.map((a) => (isObject(a) ? a.name : undefined))) : [];
  const published = typeof p.publishedAt === 'string' && /^\d{4}-\d{2}-\d{2}/.test(p.publishedAt) ? new Date(p.publishedAt.slice(0, 10) + 'T00:00:00Z') : null;
  const upvotes = typeof p.upvotes === 'number' && Number.isSafeInteger(p.upvotes) && p.upvotes >= 0 ? p.upvotes : null;
  const link = (v: unknown) => (typeof v === 'string' && v.length <= 2000 ? safeHttpUrl(v) : null);
  return {
    title,
    abstract,
    arxivId,
    url: arxivId ? `https://arxiv.org/abs/${arxivId}` : null,
    pdfUrl: arxivId ? `https://arxiv.org/pdf/${arxivId}` : null,
    codeUrl: link(p.githubRepo),
    projectUrl: link(p.projectPage),
    authors,
    publishedAt: published && !Number.isNaN(published.getTime()) ? published : null,
    upvotes,
    categories: [],
  };
}

/** Hugging Face daily papers: one digest per day. */
export class HfDailySource implements PaperSource {
  readonly name = HF_SOURCE;
  readonly supportsRange = true;

  constructor(
    private readonly baseUrl: string,
    private readonly fetch: Fetcher,
    private readonly pageSize = HF_PAGE_SIZE,
  ) {}

  /** Yesterday and today (UTC): papers are added to a day's list through the day. */
  scheduledRange(now: Date): DayRange {
    const to = utcDay(now);
    return { from: new Date(to.getTime() - DAY_MS), to };
  }

  async *pull(range: DayRange): AsyncIterable<SourceBatch> {
    const days = daysOf(range);
    for (const [i, day] of days.entries()) {
      const batch: SourceBatch = { digests: [], revisions: [], skipped: 0, problems: [], progress: { done: i + 1, total: days.length } };
      const papers: PaperInput[] = [];
      for (let page = 0; page < MAX_PAGES; page++) {
        const url = new URL('/api/daily_papers', this.baseUrl);
        url.search = new URLSearchParams({ date: formatIsoDate(day), limit: String(this.pageSize), p: String(page) }).toString();
        const parsed = parseHfDailyPapers((await this.fetch(url.toString(), 'application/json')).body.toString('utf8'));
        papers.push(...parsed.items);
        batch.skipped += parsed.skipped;
        batch.problems.push(...parsed.problems.map((p) => `${formatIsoDate(day)} page ${page}: ${p}`));
        if (parsed.count < this.pageSize) break;
      }
      if (papers.length) batch.digests.push({ source: this.name, date: day, papers });
      yield batch;
    }
  }
}
