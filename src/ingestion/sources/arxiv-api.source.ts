import { DigestFormatError, DigestInput } from '../digest.types';
import { formatIsoDate } from '../parsers/digest-date';
import { ArxivEntry, arxivEntry } from './arxiv-entry';
import { FetchError } from './safe-fetch';
import { asArray, isObject, nodeText, parseFeedXml, plainText } from './source-text';
import { DAY_MS, DayRange, Fetcher, PaperSource, SourceBatch, utcDay } from './source.types';

export interface ArxivApiPage {
  total: number;
  start: number;
  entries: ArxivEntry[];
  skipped: number;
  problems: string[];
}

/**
 * One page of the arXiv API (`/api/query`), an Atom feed with opensearch totals. The API reports
 * a bad query as a feed with one entry titled "Error": that is thrown as a FetchError that is
 * not worth retrying. Pure.
 */
export function parseArxivApiPage(xml: string): ArxivApiPage {
  const doc = parseFeedXml(xml, 'arXiv API');
  if (!isObject(doc.feed)) throw new DigestFormatError('arXiv API: expected an Atom <feed>');
  const feed = doc.feed;
  const total = Number(nodeText(feed['opensearch:totalResults']));
  const start = Number(nodeText(feed['opensearch:startIndex']) || '0');
  if (!Number.isSafeInteger(total) || total < 0) throw new DigestFormatError('arXiv API: the feed has no opensearch:totalResults');
  const nodes = asArray(feed.entry);
  const first = nodes[0];
  if (isObject(first) && /\/api\/errors/.test(nodeText(first.id))) {
    throw new FetchError(`arXiv API error: ${plainText(nodeText(first.summary)).slice(0, 300) || 'unknown'}`, false);
  }
  const out: ArxivApiPage = { total, start: Number.isSafeInteger(start) ? start : 0, entries: [], skipped: 0, problems: [] };
  nodes.forEach((node, i) => {
    const e = arxivEntry(node);
    if (typeof e === 'string') {
      out.skipped++;
      if (out.problems.length < 5) out.problems.push(`entry ${i}: ${e}`);
    } else out.entries.push(e);
  });
  return out;
}

const MAX_PAGES = 200;
const compact = (d: Date) => formatIsoDate(d).replace(/-/g, '');

/**
 * The arXiv API for one category over a range of submission days, newest last, page by page
 * (the caller's fetcher spaces requests 3 s apart). One digest per submission day.
 */
export class ArxivApiSource implements PaperSource {
  readonly supportsRange = true;
  readonly name: string;

  constructor(
    private readonly baseUrl: string,
    private readonly category: string,
    private readonly fetch: Fetcher,
    private readonly pageSize = 100,
  ) {
    this.name = `arxiv-api:${category.toLowerCase()}`;
  }

  /** The last three days: submissions appear in the API a day or two after they are made. */
  scheduledRange(now: Date): DayRange {
    const to = utcDay(now);
    return { from: new Date(to.getTime() - 2 * DAY_MS), to };
  }

  async *pull(range: DayRange): AsyncIterable<SourceBatch> {
    const query = `cat:${this.category} AND submittedDate:[${compact(range.from)}0000 TO ${compact(range.to)}2359]`;
    const byDay = new Map<string, ArxivEntry[]>();
    let start = 0;
    for (let page = 0; page < MAX_PAGES; page++) {
      const url = new URL('/api/query', this.baseUrl);
      url.search = new URLSearchParams({ search_query: query, sortBy: 'submittedDate', sortOrder: 'ascending', start: String(start), max_results: String(this.pageSize) }).toString();
      const parsed = parseArxivApiPage((await this.fetch(url.toString(), 'application/atom+xml')).body.toString('utf8'));
      for (const e of parsed.entries) {
        const key = formatIsoDate(e.day ?? range.from);
        byDay.set(key, [...(byDay.get(key) ?? []), e]);
      }
      start += parsed.entries.length + parsed.skipped;
      const done = start >= parsed.total || parsed.entries.length + parsed.skipped === 0 || page === MAX_PAGES - 1;
      const digests: DigestInput[] = done
        ? [...byDay.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([day, es]) => ({ source: this.name, date: new Date(`${day}T00:00:00Z`), papers: es.map((e) => e.paper) }))
        : [];
      yield { digests, revisions: [], skipped: parsed.skipped, problems: parsed.problems, progress: { done: Math.min(start, parsed.total), total: parsed.total } };
      if (done) return;
    }
  }
}
