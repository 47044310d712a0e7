import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { DigestFormatError } from '../digest.types';
import { parseArxivApiPage } from './arxiv-api.source';
import { arxivIdAndVersion, feedDay } from './arxiv-entry';
import { parseArxivListing } from './arxiv-rss.source';
import { parseHfDailyPapers } from './hf-daily.source';
import { FetchError } from './safe-fetch';
import { plainText } from './source-text';

const FIXTURES = join(__dirname, '../../../test/fixtures/sources');
const fixture = (name: string) => readFileSync(join(FIXTURES, name), 'utf8');

function errorOf(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error');
}

describe('Hugging Face daily papers parser', () => {
  it('reads the documented item shape: id, title, summary, authors, upvotes, links', () => {
    const r = parseHfDailyPapers(fixture('hf-daily-papers.json'));
    expect(r.count).toBe(3);
    expect(r.items).toHaveLength(2);
    expect(r.items[0]).toEqual({
      title: 'Sparse Expert Routing Delays Neural Collapse',
      abstract: expect.stringMatching(/^We show that sparse mixture-of-experts/),
      arxivId: '2611.01001',
      url: 'https://arxiv.org/abs/2611.01001',
      pdfUrl: 'https://arxiv.org/pdf/2611.01001',
      codeUrl: 'https://github.com/example/sparse-collapse',
      projectUrl: 'https://example.github.io/sparse-collapse/',
      authors: ['Ada Lovelace', 'Grace Hopper'],
      publishedAt: new Date('2026-11-19T00:00:00Z'),
      upvotes: 42,
      categories: [],
    });
    // HTML in titles and abstracts is reduced to text; entities decoded once.
    expect(r.items[1].title).toBe('Diffusion Models for Protein & Ligand Docking');
    expect(r.items[1].abstract).toContain('with state of the art accuracy');
    expect(r.skipped).toBe(1);
    expect(r.problems[0]).toBe('item 2: no title');
  });

  it('rejects truncated JSON and other shapes with a clear error; an empty day is an empty list', () => {
    const text = fixture('hf-daily-papers.json');
    expect(errorOf(() => parseHfDailyPapers(text.slice(0, text.length / 2))).message).toMatch(/^Hugging Face daily papers: not valid JSON/);
    expect(errorOf(() => parseHfDailyPapers('{"error":"Invalid date"}')).message).toBe('Hugging Face daily papers: expected a JSON array of papers');
    expect(errorOf(() => parseHfDailyPapers('[' .repeat(200_000))) instanceof DigestFormatError).toBe(true);
    expect(parseHfDailyPapers('[]')).toEqual({ items: [], skipped: 0, problems: [], count: 0 });
  });

  it('drops a 10 MB title quickly instead of storing it', () => {
    const huge = JSON.stringify([{ paper: { id: '2611.00001', title: 'x'.repeat(10 * 1024 * 1024), summary: 'An abstract.' } }]);
    const started = Date.now();
    const r = parseHfDailyPapers(huge);
    expect(r.items).toHaveLength(0);
    expect(r.problems[0]).toMatch(/title of 10485760 characters is too long/);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('keeps only http(s) links and sane upvotes', () => {
    const r = parseHfDailyPapers(
      JSON.stringify([{ paper: { id: 'x', title: 'T', summary: 'S', githubRepo: 'javascript:alert(1)', projectPage: 'file:///etc/passwd', upvotes: -3 } }]),
    );
    expect(r.items[0]).toMatchObject({ arxivId: null, url: null, codeUrl: null, projectUrl: null, upvotes: null });
  });
});

describe('arXiv listing parser (rss.arxiv.org)', () => {
  it('splits new and cross-listed papers from replacements (RSS 2.0)', () => {
    const l = parseArxivListing(fixture('arxiv-rss-cs.LG.xml'));
    expect(l.day?.toISOString().slice(0, 10)).toBe('2026-11-20');
    expect(l.announced.map((e) => [e.paper.arxivId, e.announceType])).toEqual([
      ['2611.01001', 'new'],
      ['2611.01004', 'cross'],
    ]);
    expect(l.announced[0].paper).toMatchObject({
      title: 'Sparse Expert Routing Delays Neural Collapse',
      abstract: expect.stringMatching(/^We show that sparse/),
      authors: ['Ada Lovelace', 'Grace Hopper'],
      categories: ['cs.LG', 'stat.ML'],
      arxivVersion: 1,
      pdfUrl: 'https://arxiv.org/pdf/2611.01001',
    });
    expect(l.announced[1].paper.authors).toEqual(['Kurt Gödel']);
    expect(l.replaced.map((e) => [e.paper.arxivId, e.paper.arxivVersion, e.announceType])).toEqual([['2610.09999', 2, 'replace']]);
  });

  it('reads the Atom form of the listing too', () => {
    const l = parseArxivListing(fixture('arxiv-atom-cs.LG.xml'));
    expect(l.day?.toISOString().slice(0, 10)).toBe('2026-11-20');
    expect(l.announced.map((e) => e.paper.arxivId)).toEqual(['2611.01001']);
    expect(l.replaced.map((e) => [e.paper.arxivId, e.paper.arxivVersion, e.announceType])).toEqual([['2610.09999', 3, 'replace-cross']]);
  });

  it('an empty listing (weekend) is not an error', () => {
    const empty = `<?xml version="1.0"?><rss version="2.0"><channel><title>cs.LG updates on arXiv.org</title><pubDate>Sat, 21 Nov 2026 00:00:00 -0500</pubDate></channel></rss>`;
    expect(parseArxivListing(empty)).toMatchObject({ announced: [], replaced: [], skipped: 0 });
    expect(parseArxivListing('<rss version="2.0"><channel/></rss>')).toMatchObject({ announced: [], replaced: [] });
  });

  it('refuses an entity bomb quickly, and never expands entities', () => {
    const lol = `<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol">${Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i || ''};`.repeat(10)}">`).join('')}]>
<rss version="2.0"><channel><item><title>&lol9;</title></item></channel></rss>`;
    const started = Date.now();
    expect(errorOf(() => parseArxivListing(lol)).message).toBe('arXiv listing: XML with a DTD or entity declarations is refused');
    expect(Date.now() - started).toBeLessThan(200);
    // An undeclared entity reference stays literal text, decoded once at most.
    const l = parseArxivListing(fixture('arxiv-rss-cs.LG.xml').replace('Sparse Expert', '&amp;lt;b&amp;gt; &unknown; Sparse Expert'));
    expect(l.announced[0].paper.title).toBe('&lt;b&gt; &unknown; Sparse Expert Routing Delays Neural Collapse');
  });

  it('rejects truncated XML and documents that are not feeds', () => {
    const xml = fixture('arxiv-rss-cs.LG.xml');
    expect(errorOf(() => parseArxivListing(xml.slice(0, 2000))).message).toMatch(/^arXiv listing: malformed XML/);
    expect(errorOf(() => parseArxivListing('<html><body>Service unavailable</body></html>')).message).toBe(
      'arXiv listing: expected an RSS <channel> or an Atom <feed>',
    );
    expect(errorOf(() => parseArxivListing('')).message).toMatch(/^arXiv listing: /);
  });
});

describe('arXiv API parser', () => {
  it('reads totals, ids with versions, categories and submission days', () => {
    const p = parseArxivApiPage(fixture('arxiv-api-cs.LG.xml'));
    expect(p.total).toBe(3);
    expect(p.entries.map((e) => [e.paper.arxivId, e.paper.arxivVersion, e.day?.toISOString().slice(0, 10)])).toEqual([
      ['2611.01001', 1, '2026-11-18'],
      ['2611.01005', 2, '2026-11-18'],
    ]);
    expect(p.entries[0].paper).toMatchObject({
      title: 'Sparse Expert Routing Delays Neural Collapse',
      authors: ['Ada Lovelace', 'Grace Hopper'],
      categories: ['cs.LG', 'stat.ML'],
      publishedAt: new Date('2026-11-18T00:00:00Z'),
    });
  });

  it('turns the API error feed into a non-retriable error', () => {
    const e = errorOf(() => parseArxivApiPage(fixture('arxiv-api-error.xml')));
    expect(e).toBeInstanceOf(FetchError);
    expect(e.message).toBe('arXiv API error: incorrect id format for 1234');
    expect((e as FetchError).retriable).toBe(false);
  });
});

describe('small pieces', () => {
  it('arXiv ids, versions and feed days', () => {
    expect(arxivIdAndVersion('oai:arXiv.org:2401.01234v12')).toEqual({ id: '2401.01234', version: 12 });
    expect(arxivIdAndVersion('http://arxiv.org/abs/hep-th/9901001v2')).toEqual({ id: 'hep-th/9901001', version: 2 });
    expect(arxivIdAndVersion('https://arxiv.org/abs/2401.01234')).toEqual({ id: '2401.01234', version: 1 });
    expect(arxivIdAndVersion('http://arxiv.org/api/errors#x')).toBeUndefined();
    expect(feedDay('Mon, 22 Jan 2024 00:00:00 -0500')?.toISOString()).toBe('2024-01-22T00:00:00.000Z');
    expect(feedDay('2024-01-22T00:00:00-05:00')?.toISOString()).toBe('2024-01-22T00:00:00.000Z');
    expect(feedDay('31 Feb 2024')).toBeUndefined();
  });

  it('plain text: tags gone, entities decoded once, controls removed', () => {
    expect(plainText('<script>x</script> A&amp;B &#x3C;i&#x3E;y \u0000 &#0; 1 &lt; 2 &amp;lt;')).toBe('x A&B y 1 < 2 &lt;');
    expect(plainText('<<b>>Title</b>\n\n  with   space')).toBe('Title with space');
    expect(plainText(42)).toBe('');
  });
});

/** Property-based: arbitrary and mutated inputs either parse or fail with DigestFormatError/FetchError, quickly. */
describe('parsers never crash or hang (fast-check)', () => {
  const allowed = (e: unknown) => e instanceof DigestFormatError || (e instanceof FetchError && !e.retriable);
  const survives = (fn: () => unknown) => {
    const started = Date.now();
    try {
      fn();
    } catch (e) {
      if (!allowed(e)) throw e;
    }
    return Date.now() - started < 1000;
  };
  const xmlFixtures = ['arxiv-rss-cs.LG.xml', 'arxiv-atom-cs.LG.xml', 'arxiv-api-cs.LG.xml', 'arxiv-api-error.xml'].map(fixture);
  const hf = fixture('hf-daily-papers.json');
  /** A fixture with a slice cut out, a string spliced in, or both: truncations and hostile splices. */
  const mutated = (texts: string[]) =>
    fc
      .tuple(fc.constantFrom(...texts), fc.nat(), fc.nat(), fc.oneof(fc.string({ maxLength: 50 }), fc.constantFrom('<', '>', '&', '&amp;', ']]>', '<![CDATA[', '<!ENTITY a "b">', '"', '\u0000', '<item>', '<entry>')))
      .map(([t, a, b, insert]) => {
        const i = a % (t.length + 1);
        const j = Math.min(t.length, i + (b % 200));
        return t.slice(0, i) + insert + t.slice(j);
      });

  it('HF parser on arbitrary strings, JSON values and mutated fixtures', () => {
    fc.assert(fc.property(fc.string({ maxLength: 300 }), (s) => survives(() => parseHfDailyPapers(s))), { numRuns: 300 });
    fc.assert(fc.property(fc.json({ maxDepth: 5 }), (s) => survives(() => parseHfDailyPapers(s))), { numRuns: 300 });
    fc.assert(
      fc.property(fc.array(fc.record({ paper: fc.record({ id: fc.anything(), title: fc.anything(), summary: fc.anything(), authors: fc.anything(), upvotes: fc.anything() }) })), (items) =>
        survives(() => parseHfDailyPapers(JSON.stringify(items))),
      ),
      { numRuns: 200 },
    );
    fc.assert(fc.property(mutated([hf]), (s) => survives(() => parseHfDailyPapers(s))), { numRuns: 300 });
  });

  it('arXiv parsers on arbitrary strings and mutated fixtures', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (s) => survives(() => parseArxivListing(s)) && survives(() => parseArxivApiPage(s))),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(mutated(xmlFixtures), (s) => survives(() => parseArxivListing(s)) && survives(() => parseArxivApiPage(s))),
      { numRuns: 400 },
    );
  });

  it('plain text never grows and holds no control characters', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 500 }), (s) => {
        const t = plainText(s);
        return t.length <= s.length && !/[\u0000-\u0008]/.test(t);
      }),
      { numRuns: 500 },
    );
  });
});
