import { DigestFormatError } from '../digest.types';
import { parseDateText, PartialDate } from './digest-date';

export interface ParsedPage {
  date: PartialDate;
  papers: { title: string; abstract: string; line: number }[];
}

/** Header lines of a daily-papers page before the date line (compared case-insensitively). */
const MAX_HEADER_LINES = 12;
const MAX_TITLE_LENGTH = 400;
const MIN_ABSTRACT_LENGTH = 40;

/**
 * Parses a daily-papers page saved as text: a few header lines ("Get trending papers in your
 * email inbox!", "byAK and the research community", …), a date line such as "Jul 15", then
 * title and abstract paragraphs, alternating, separated by blank lines.
 *
 * Errors name the 1-based line they concern, so a user can fix the file.
 */
export function parseDailyPapersPage(text: string): ParsedPage {
  if (text.includes('\u0000')) throw new DigestFormatError('the page contains NUL bytes; is it a text file?');
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/);
  const paragraphs: { text: string; line: number }[] = [];
  let current: { text: string; line: number } | undefined;
  lines.forEach((raw, i) => {
    const l = raw.replace(/\s+/g, ' ').trim();
    if (!l) {
      current = undefined;
      return;
    }
    if (current) current.text += ' ' + l;
    else paragraphs.push((current = { text: l, line: i + 1 }));
  });
  if (paragraphs.length === 0) throw new DigestFormatError('the page is empty');

  const dateIndex = paragraphs.findIndex((p, i) => i < MAX_HEADER_LINES && parseDateText(p.text));
  if (dateIndex < 0) {
    throw new DigestFormatError(
      `no date line found in the first ${MAX_HEADER_LINES} paragraphs (expected a line such as "Jul 15" before the first paper)`,
      paragraphs[0].line,
      'date',
    );
  }
  const date = parseDateText(paragraphs[dateIndex].text)!;
  const body = paragraphs.slice(dateIndex + 1);
  if (body.length === 0) throw new DigestFormatError('the page has a date but no papers', paragraphs[dateIndex].line);

  const papers: ParsedPage['papers'] = [];
  for (let i = 0; i < body.length; i += 2) {
    const title = body[i];
    const abstract = body[i + 1];
    if (title.text.length > MAX_TITLE_LENGTH) {
      throw new DigestFormatError(
        `line ${title.line}: expected a paper title but found a ${title.text.length}-character paragraph; is a title or an abstract missing above it?`,
        title.line,
      );
    }
    if (!abstract) {
      throw new DigestFormatError(`line ${title.line}: the paper "${clip(title.text)}" has no abstract after it`, title.line);
    }
    if (abstract.text.length < MIN_ABSTRACT_LENGTH) {
      throw new DigestFormatError(
        `line ${abstract.line}: expected the abstract of "${clip(title.text)}" but found "${clip(abstract.text)}"; is an abstract missing?`,
        abstract.line,
      );
    }
    papers.push({ title: title.text, abstract: abstract.text, line: title.line });
  }
  return { date, papers };
}

function clip(s: string, n = 60): string {
  return s.length > n ? s.slice(0, n - 1) + '…' : s;
}
