import { DigestFormatError, DigestInput } from '../digest.types';
import { PaperRevision } from '../ingestion.repository';
import { ArxivEntry, arxivEntry, feedDay } from './arxiv-entry';
import { asArray, isObject, nodeText, parseFeedXml } from './source-text';
import { DayRange, Fetcher, PaperSource, SourceBatch, utcDay } from './source.types';

export interface ArxivListing {
  /** The announcement day the listing is for (undefined when the feed names none). */
  day?: Date;
  /** new and cross-listed papers: the digest. */
  announced: ArxivEntry[];
  /** replace and replace-cross: updates to papers already announced. */
  replaced: ArxivEntry[];
  skipped: number;
  problems: string[];
}

/**
 * A daily listing from rss.arxiv.org, RSS 2.0 (`/rss/cs.LG`) or Atom (`/atom/cs.LG`), with
 * `arxiv:announce_type` per item. Pure: throws DigestFormatError for a document that is not such
 * a feed; drops (and counts) bad items. An empty listing (weekends, holidays) has no items.
 */
export function parseArxivListing(xml: string): ArxivListing {
  const doc = parseFeedXml(xml, 'arXiv listing');
  // An element with no children parses as "": an empty channel or feed is an empty listing.
  const isRss = isObject(doc.rss) && 'channel' in doc.rss;
  const node = isRss ? (doc.rss as Record<string, unknown>).channel : doc.feed;
  if (!isObject(node) && node !== '') throw new DigestFormatError('arXiv listing: expected an RSS <channel> or an Atom <feed>');
  const root = isObject(node) ? node : {};
  const nodes = asArray(isRss ? root.item : root.entry);
  const out: ArxivListing = {
    day: feedDay(nodeText(root.pubDate) || nodeText(root.updated) || nodeText(root.lastBuildDate)),
    announced: [],
    replaced: [],
    skipped: 0,
    problems: [],
  };
  nodes.forEach((node, i) => {
    const e = arxivEntry(node);
    if (typeof e === 'string') {
      out.skipped++;
      if (out.problems.length < 5) out.problems.push(`item ${i}: ${e}`);
    } else if (e.announceType === 'replace' || e.announceType === 'replace-cross') out.replaced.push(e);
    else if (e.announceType === 'new' || e.announceType === 'cross' || e.announceType === undefined) out.announced.push(e);
    else {
      out.skipped++;
      if (out.problems.length < 5) out.problems.push(`item ${i}: announce type "${e.announceType}" is not handled`);
    }
  });
  return out;
}

export function revisionOf(e: ArxivEntry): PaperRevision {
  const p = e.paper;
  return { arxivId: p.arxivId, version: p.arxivVersion, title: p.title, abstract: p.abstract, authors: p.authors ?? [], categories: p.categories ?? [] };
}

/** The day's listing from arXiv for one category: new and cross-lists are the digest; replacements update stored papers. */
export class ArxivRssSource implements PaperSource {
  readonly supportsRange = false;
  readonly name: string;

  constructor(
    private readonly baseUrl: string,
    private readonly category: string,
    private readonly fetch: Fetcher,
  ) {
    this.name = `arxiv-rss:${category.toLowerCase()}`;
  }

  scheduledRange(now: Date): DayRange {
    return { from: utcDay(now), to: utcDay(now) };
  }

  async *pull(): AsyncIterable<SourceBatch> {
    const url = new URL(`/rss/${encodeURIComponent(this.category)}`, this.baseUrl).toString();
    const listing = parseArxivListing((await this.fetch(url, 'application/rss+xml, application/xml')).body.toString('utf8'));
    const digests: DigestInput[] = [];
    if (listing.announced.length) {
      if (!listing.day) throw new DigestFormatError(`arXiv listing ${this.category}: the feed names no date (pubDate or updated)`);
      digests.push({ source: this.name, date: listing.day, papers: listing.announced.map((e) => e.paper) });
    }
    yield { digests, revisions: listing.replaced.map(revisionOf), skipped: listing.skipped, problems: listing.problems, progress: { done: 1, total: 1 } };
  }
}
