import { DigestInput, PaperInput } from '../digest.types';
import { parseDailyPapersPage } from './daily-papers-page.parser';
import { resolveDate } from './digest-date';
import { parseDigestJson } from './digest-json.parser';
import { arxivIdFromUrl, normalizeArxivId, safeHttpUrl } from './paper-identity';

export const PAGE_SOURCE = 'daily-papers';

export interface ParseOptions {
  now?: Date;
  /** Year for dates written without one (otherwise the latest such date not in the future). */
  year?: number;
  source?: string;
}

/** A daily-papers page (text) → DigestInput. Throws DigestFormatError naming the line. */
export function digestFromPage(text: string, opts: ParseOptions = {}): DigestInput {
  const page = parseDailyPapersPage(text);
  return {
    source: opts.source ?? PAGE_SOURCE,
    date: resolveDate(page.date, opts.now ?? new Date(), opts.year),
    papers: page.papers.map((p) => ({ title: p.title, abstract: p.abstract, authors: [] })),
  };
}

/** A JSON digest (already JSON-parsed) → DigestInput. Throws DigestFormatError naming the field. */
export function digestFromJson(body: unknown, opts: ParseOptions = {}): DigestInput {
  const d = parseDigestJson(body);
  return {
    source: d.source,
    date: resolveDate(d.date, opts.now ?? new Date(), d.year ?? opts.year),
    papers: d.papers.map(
      (p): PaperInput => ({
        title: p.title,
        abstract: p.abstract,
        url: safeHttpUrl(p.url),
        arxivId: normalizeArxivId(p.arxivId) ?? arxivIdFromUrl(p.url),
        authors: p.authors ?? [],
        publishedAt: p.publishedAt ? new Date(p.publishedAt.slice(0, 10) + 'T00:00:00Z') : null,
      }),
    ),
  };
}
