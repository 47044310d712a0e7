import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DigestFormatError } from '../digest.types';
import { digestFromJson, digestFromPage } from './digest-input';
import { parseDateText, resolveDate } from './digest-date';
import { arxivIdFromUrl, normalizeArxivId, titleKey } from './paper-identity';

const SEEDS = join(__dirname, '../../../prisma/seed-digests');
const now = new Date('2026-11-23T12:00:00Z');

function errorOf(fn: () => unknown): DigestFormatError {
  try {
    fn();
  } catch (e) {
    if (e instanceof DigestFormatError) return e;
    throw e;
  }
  throw new Error('expected a DigestFormatError');
}

describe('daily-papers page parser', () => {
  it('parses every sample page into title/abstract pairs with a resolved date', () => {
    const files = readdirSync(SEEDS).filter((f) => f.endsWith('.txt')).sort();
    expect(files).toHaveLength(5);
    const counts = files.map((f) => digestFromPage(readFileSync(join(SEEDS, f), 'utf8'), { now }));
    // The same counts as the hand-checked eval set (shared/eval/papers.jsonl, per page).
    expect(counts.map((d) => d.papers.length)).toEqual([62, 92, 39, 93, 75]);
    expect(counts[0].date.toISOString().slice(0, 10)).toBe('2026-07-15');
    expect(counts[0].papers[0].title).toBe('Generalizable Data-free Objective for Crafting Universal Adversarial Perturbations');
    expect(counts[0].papers[0].abstract).toMatch(/^Machine learning models are susceptible/);
    for (const d of counts) for (const p of d.papers) expect(p.abstract.length).toBeGreaterThan(p.title.length);
  });

  it('handles CRLF line endings, a BOM and extra blank lines', () => {
    const page = '\uFEFFnew\r\n\r\nSubscribe\r\n\r\nMar 3\r\n\r\n\r\nA Title\r\n\r\n' + 'An abstract long enough to be one. '.repeat(3) + '\r\n';
    const d = digestFromPage(page, { now });
    expect(d.papers).toEqual([{ title: 'A Title', abstract: expect.stringMatching(/^An abstract/), authors: [] }]);
    expect(d.date.toISOString().slice(0, 10)).toBe('2026-03-03');
  });

  it('names the line of a title without an abstract', () => {
    const page = 'new\n\nJul 15\n\nFirst title\n\n' + 'x'.repeat(100) + '\n\nSecond title\n';
    const e = errorOf(() => digestFromPage(page, { now }));
    expect(e.message).toBe('line 9: the paper "Second title" has no abstract after it');
    expect(e.line).toBe(9);
  });

  it('detects a missing title (an abstract where a title should be)', () => {
    const abs = 'This abstract is long. '.repeat(30);
    const page = `new\n\nJul 15\n\nTitle one\n\n${abs}\n\n${abs}\n\nTitle three\n\n${abs}\n`;
    expect(errorOf(() => digestFromPage(page, { now })).message).toMatch(/^line 9: expected a paper title but found a \d+-character paragraph/);
  });

  it('rejects pages without a date line or without papers', () => {
    expect(errorOf(() => digestFromPage('just\n\nsome\n\ntext', { now })).message).toMatch(/no date line found/);
    expect(errorOf(() => digestFromPage('new\n\nJul 15\n', { now })).message).toMatch(/no papers/);
    expect(errorOf(() => digestFromPage('', { now })).message).toBe('the page is empty');
  });
});

describe('dates', () => {
  it('recognises the common forms', () => {
    expect(parseDateText('Jul 15')).toEqual({ month: 7, day: 15, year: undefined });
    expect(parseDateText('September 3, 2024')).toEqual({ month: 9, day: 3, year: 2024 });
    expect(parseDateText('2025-03-14')).toEqual({ month: 3, day: 14, year: 2025 });
    expect(parseDateText('Feb 30')).toBeUndefined();
    expect(parseDateText('Subscribe')).toBeUndefined();
    expect(parseDateText('Julyish 15')).toBeUndefined();
  });

  it('resolves a year-less date to the latest one not in the future', () => {
    const iso = (d: Date) => d.toISOString().slice(0, 10);
    expect(iso(resolveDate({ month: 11, day: 23 }, now))).toBe('2026-11-23');
    expect(iso(resolveDate({ month: 11, day: 24 }, now))).toBe('2025-11-24');
    expect(iso(resolveDate({ month: 2, day: 29 }, now))).toBe('2024-02-29');
    expect(iso(resolveDate({ month: 12, day: 1 }, now, 2030))).toBe('2030-12-01');
  });
});

describe('JSON digests', () => {
  const paper = { title: 'T', abstract: 'An abstract.' };

  it('normalises ids and links', () => {
    const d = digestFromJson(
      { date: '2025-03-14', source: 'hf', papers: [{ ...paper, url: 'https://huggingface.co/papers/2503.01234', authors: ['Ada  Lovelace'] }] },
      { now },
    );
    expect(d.papers[0]).toMatchObject({ arxivId: '2503.01234', authors: ['Ada Lovelace'], url: 'https://huggingface.co/papers/2503.01234' });
    expect(d.source).toBe('hf');
  });

  it('names the offending field', () => {
    expect(errorOf(() => digestFromJson({ date: 'Jul 15', papers: [paper, { ...paper, title: '  ' }] })).message).toBe('papers[1].title: must not be empty');
    expect(errorOf(() => digestFromJson({ date: 'soon', papers: [paper] })).message).toMatch(/^date: "soon" is not a date/);
    expect(errorOf(() => digestFromJson({ papers: [paper] })).message).toMatch(/^date: /);
    expect(errorOf(() => digestFromJson({ date: 'Jul 15', papers: [] })).message).toBe('papers: a digest needs at least one paper');
    expect(errorOf(() => digestFromJson({ date: 'Jul 15', papers: [{ ...paper, url: 'javascript:alert(1)' }] })).message).toBe(
      'papers[0].url: must be an http(s) URL',
    );
    expect(errorOf(() => digestFromJson([])).message).toMatch(/^body: /);
  });
});

describe('paper identity', () => {
  it('folds arXiv versions and prefixes', () => {
    expect(normalizeArxivId('2401.01234v3')).toBe('2401.01234');
    expect(normalizeArxivId('arXiv:hep-th/9901001v1')).toBe('hep-th/9901001');
    expect(normalizeArxivId('not-an-id')).toBeNull();
    expect(arxivIdFromUrl('https://arxiv.org/pdf/2401.01234v2.pdf')).toBe('2401.01234');
    expect(arxivIdFromUrl('https://example.org/abs/2401.01234')).toBeNull();
  });

  it('treats case, accents and punctuation as the same title', () => {
    expect(titleKey('Perturbation Analysis of Neural Collapse')).toBe(titleKey('perturbation analysis of neural  collapse.'));
    expect(titleKey('Café: Über-Models')).toBe('cafe uber models');
  });
});
