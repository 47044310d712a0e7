import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { DigestFormatError } from '../digest.types';

/**
 * Sanitising for text that arrives from feeds and ends up in emails and the matcher. Pure and
 * linear in the input: fuzz tests run it on arbitrary strings.
 */
export const LIMITS = { title: 1000, abstract: 20_000, author: 300, authors: 500, categories: 20 };

const NAMED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'", nbsp: ' ' };

/** The five XML entities and numeric references, in one pass (no recursion: `&amp;lt;` → `&lt;`). */
export function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-f]{1,6}|#\d{1,7}|[a-z]{2,6});/gi, (whole, ref: string) => {
    if (ref[0] !== '#') return NAMED[ref.toLowerCase()] ?? whole;
    const code = ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
    return code > 0 && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff) ? String.fromCodePoint(code) : '';
  });
}

/**
 * Plain text from feed text: entities decoded, HTML tags dropped, control characters removed,
 * whitespace collapsed. Titles in feeds may carry markup (`<i>in vivo</i>`); emails escape what
 * remains anyway.
 */
export function plainText(raw: unknown): string {
  if (typeof raw !== 'string') return '';
  return decodeEntities(raw.replace(/<[^<>]*>/g, ' '))
    .replace(/<[^<>]*>/g, ' ')
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\u200b\u2028\u2029\ufeff]/g, '')
    .replace(/\s+/g, ' ')
    .trim();
}

/** A title or abstract within its limit, or a reason to drop the item. */
export function boundedText(raw: unknown, field: 'title' | 'abstract'): string | { problem: string } {
  // Check the raw size first: a 10 MB title is refused without being cleaned.
  if (typeof raw === 'string' && raw.length > LIMITS[field] * 4) return { problem: `${field} of ${raw.length} characters is too long` };
  const text = plainText(raw);
  if (!text) return { problem: `no ${field}` };
  if (text.length > LIMITS[field]) return { problem: `${field} of ${text.length} characters is too long (limit ${LIMITS[field]})` };
  return text;
}

export function authorList(names: unknown[]): string[] {
  return names
    .map((n) => plainText(n))
    .filter((n) => n.length > 0 && n.length <= LIMITS.author)
    .slice(0, LIMITS.authors);
}

/** Feed XML: no DTDs at all (so no entity expansion, no billion laughs, no external entities). */
const xml = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  processEntities: false,
  htmlEntities: false,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  isArray: (name) => ['item', 'entry', 'author', 'category', 'link', 'dc:creator'].includes(name),
});

export function parseFeedXml(text: string, what: string): Record<string, unknown> {
  const head = text.slice(0, 4096);
  if (/<!DOCTYPE|<!ENTITY/i.test(head) || /<!ENTITY/i.test(text)) throw new DigestFormatError(`${what}: XML with a DTD or entity declarations is refused`);
  const valid = XMLValidator.validate(text);
  if (valid !== true) throw new DigestFormatError(`${what}: malformed XML (${valid.err.msg} at line ${valid.err.line})`);
  try {
    return xml.parse(text) as Record<string, unknown>;
  } catch (e) {
    throw new DigestFormatError(`${what}: malformed XML (${(e as Error).message})`);
  }
}

/** The text of an XML node: "x", { "#text": "x", … } → "x"; anything else → "". */
export function nodeText(n: unknown): string {
  if (typeof n === 'string') return n;
  if (n && typeof n === 'object' && typeof (n as Record<string, unknown>)['#text'] === 'string') return (n as Record<string, string>)['#text'];
  return '';
}

export function asArray(n: unknown): unknown[] {
  return Array.isArray(n) ? n : n === undefined || n === null ? [] : [n];
}

export function attr(n: unknown, name: string): string {
  return n && typeof n === 'object' && typeof (n as Record<string, unknown>)[`@_${name}`] === 'string' ? (n as Record<string, string>)[`@_${name}`] : '';
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
