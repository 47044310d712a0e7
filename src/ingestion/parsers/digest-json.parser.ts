import { z } from 'zod';
import { DigestFormatError } from '../digest.types';
import { parseDateText, PartialDate } from './digest-date';
import { normalizeArxivId, safeHttpUrl } from './paper-identity';

const text = (max: number) =>
  z
    .string()
    .transform((s) => s.replace(/\s+/g, ' ').trim())
    .pipe(z.string().min(1, 'must not be empty').max(max, `must be at most ${max} characters`));

export const MAX_PAPERS_PER_DIGEST = 5000;

export const digestJsonSchema = z.object({
  date: z.string().max(40),
  year: z.number().int().min(1990).max(2100).optional(),
  source: z
    .string()
    .regex(/^[a-z0-9][a-z0-9._:-]{0,63}$/i, 'must be 1-64 letters, digits, ".", "_", ":" or "-"')
    .default('api'),
  papers: z
    .array(
      z.object({
        title: text(1000),
        abstract: text(20_000),
        url: z.string().max(2000).optional().nullable(),
        arxivId: z.string().max(64).optional().nullable(),
        authors: z.array(text(300)).max(500).optional(),
        publishedAt: z.string().max(40).optional().nullable(),
      }),
    )
    .min(1, 'a digest needs at least one paper')
    .max(MAX_PAPERS_PER_DIGEST, `a digest holds at most ${MAX_PAPERS_PER_DIGEST} papers`),
});

export type DigestJson = z.output<typeof digestJsonSchema>;

export interface ParsedDigestJson extends Omit<DigestJson, 'date'> {
  date: PartialDate;
}

/** Validates a JSON digest; the error names the field path, e.g. `papers[3].title: must not be empty`. */
export function parseDigestJson(body: unknown): ParsedDigestJson {
  const r = digestJsonSchema.safeParse(body);
  if (!r.success) {
    const first = r.error.issues[0];
    const path = first.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '');
    const more = r.error.issues.length > 1 ? ` (and ${r.error.issues.length - 1} more problem${r.error.issues.length > 2 ? 's' : ''})` : '';
    throw new DigestFormatError(`${path || 'body'}: ${first.message}${more}`, undefined, path);
  }
  const date = parseDateText(r.data.date);
  if (!date) throw new DigestFormatError(`date: "${r.data.date}" is not a date (use YYYY-MM-DD or e.g. "Jul 15")`, undefined, 'date');
  r.data.papers.forEach((p, i) => {
    if (p.publishedAt && !/^\d{4}-\d{2}-\d{2}/.test(p.publishedAt))
      throw new DigestFormatError(`papers[${i}].publishedAt: expected YYYY-MM-DD`, undefined, `papers[${i}].publishedAt`);
    if (p.url && !safeHttpUrl(p.url))
      throw new DigestFormatError(`papers[${i}].url: must be an http(s) URL`, undefined, `papers[${i}].url`);
    if (p.arxivId && !normalizeArxivId(p.arxivId))
      throw new DigestFormatError(`papers[${i}].arxivId: "${p.arxivId}" is not an arXiv id (e.g. 2401.01234)`, undefined, `papers[${i}].arxivId`);
  });
  return { ...r.data, date };
}
