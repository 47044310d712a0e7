import { PaperInput } from '../digest.types';
import { normalizeArxivId } from '../parsers/paper-identity';
import { asArray, attr, authorList, boundedText, LIMITS, nodeText, plainText } from './source-text';

/** What every arXiv format (API Atom, listing RSS, listing Atom) says about one paper. */
export interface ArxivEntry {
  paper: PaperInput & { arxivId: string; arxivVersion: number };
  /** Listings only: new | cross | replace | replace-cross. */
  announceType?: string;
  /** Submission (API) or announcement (listing) day, as written in the feed. */
  day?: Date;
}

/** "oai:arXiv.org:2401.01234v2", "http://arxiv.org/abs/2401.01234v2", "arXiv:2401.01234v2" → id and version. */
export function arxivIdAndVersion(raw: string): { id: string; version: number } | undefined {
  const m = /(?:abs\/|oai:arxiv\.org:|arxiv:|^)((?:\d{4}\.\d{4,5})|(?:[a-z-]+(?:\.[a-z]{2})?\/\d{7}))(?:v(\d{1,3}))?\s*$/i.exec(raw.trim());
  if (!m) return undefined;
  const id = normalizeArxivId(m[1]);
  return id ? { id, version: m[2] ? Number(m[2]) : 1 } : undefined;
}

/** The calendar day a feed date names, in the feed's own zone: "Mon, 22 Jan 2024 00:00:00 -0500" and "2024-01-22T…" → 2024-01-22. */
export function feedDay(raw: string): Date | undefined {
  const s = raw.trim();
  const iso = /^(\d{4})-(\d{2})-(\d{2})/.exec(s);
  const rfc = /^(?:[A-Za-z]{3},\s*)?(\d{1,2})\s+([A-Za-z]{3})\s+(\d{4})/.exec(s);
  let y: number, mo: number, d: number;
  if (iso) [y, mo, d] = [+iso[1], +iso[2], +iso[3]];
  else if (rfc) {
    mo = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'].indexOf(rfc[2].toLowerCase()) + 1;
    [y, d] = [+rfc[3], +rfc[1]];
  } else return undefined;
  const date = new Date(Date.UTC(y, mo - 1, d));
  return mo >= 1 && y >= 1990 && y <= 2100 && date.getUTCDate() === d ? date : undefined;
}

/** Listing abstracts start with "arXiv:2401.01234v1 Announce Type: new \nAbstract: ". */
function splitListingSummary(text: string): { announceType?: string; abstract: string } {
  const m = /^\s*arXiv:\S+\s+Announce Type:\s*([a-z-]+)\s*Abstract:\s*/i.exec(text);
  return m ? { announceType: m[1].toLowerCase(), abstract: text.slice(m[0].length) } : { abstract: text };
}

const CATEGORY = /^[a-z-]{1,20}(?:\.[a-z-]{1,10})?$/i;

/**
 * One `<entry>` (Atom: API or listing) or `<item>` (RSS listing) → ArxivEntry, or why it was
 * dropped. Pure.
 */
export function arxivEntry(node: unknown): ArxivEntry | string {
  if (!node || typeof node !== 'object') return 'not an element';
  const n = node as Record<string, unknown>;
  const isRss = 'guid' in n || 'description' in n;
  const idText = isRss ? nodeText(n.guid) || nodeText(n.link) : nodeText(n.id);
  const idv = idText.length < 300 ? arxivIdAndVersion(idText) : undefined;
  if (!idv) return `no arXiv id in "${plainText(idText).slice(0, 80)}"`;
  const title = boundedText(nodeText(n.title), 'title');
  if (typeof title !== 'string') return `${idv.id}: ${title.problem}`;
  const rawSummary = nodeText(isRss ? n.description : n.summary);
  if (rawSummary.length > LIMITS.abstract * 4) return `${idv.id}: abstract of ${rawSummary.length} characters is too long`;
  const summary = splitListingSummary(plainText(rawSummary));
  const abstract = boundedText(summary.abstract, 'abstract');
  if (typeof abstract !== 'string') return `${idv.id}: ${abstract.problem}`;

  const authorNames = asArray(n.author).map((a) => (a && typeof a === 'object' ? nodeText((a as Record<string, unknown>).name) : nodeText(a)));
  // RSS listings put every author in one dc:creator, comma separated.
  for (const c of asArray(n['dc:creator'])) authorNames.push(...plainText(nodeText(c)).slice(0, 100_000).split(/,\s*|\s+and\s+/));
  const primary = attr(n['arxiv:primary_category'], 'term');
  const categories = [primary, ...asArray(n.category).map((c) => attr(c, 'term') || nodeText(c))]
    .map((c) => c.trim())
    .filter((c, i, all) => c && CATEGORY.test(c) && all.indexOf(c) === i)
    .slice(0, LIMITS.categories);
  const announceType = plainText(nodeText(n['arxiv:announce_type'])).toLowerCase() || summary.announceType;
  const dayText = nodeText(n.published) || nodeText(n.pubDate) || nodeText(n.updated);
  const day = feedDay(dayText);
  return {
    paper: {
      title,
      abstract,
      arxivId: idv.id,
      arxivVersion: idv.version,
      url: `https://arxiv.org/abs/${idv.id}`,
      pdfUrl: `https://arxiv.org/pdf/${idv.id}`,
      authors: authorList(authorNames),
      publishedAt: !isRss && n.published ? (day ?? null) : null,
      categories,
    },
    announceType: announceType && /^[a-z-]{1,20}$/.test(announceType) ? announceType : undefined,
    day,
  };
}
