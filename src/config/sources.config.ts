import { CronExpressionParser } from 'cron-parser';
import { z } from 'zod';

/**
 * Configuration of the feed sources (issue #7), spread into the env schema. Kept in its own file
 * so the source kinds and their validation live together; docs/sources.md describes each variable.
 */
export const SOURCE_KINDS = ['hf-daily', 'arxiv-rss', 'arxiv-api'] as const;
export type SourceKind = (typeof SOURCE_KINDS)[number];

export interface SourceSpec {
  kind: SourceKind;
  /** arXiv category as written in the config (e.g. "cs.LG"); undefined for hf-daily. */
  category?: string;
  /** The digest `source` string and the scheduler key: lower case, e.g. "arxiv-rss:cs.lg". */
  name: string;
}

/** arXiv category names: "cs.LG", "hep-th", "astro-ph.CO", "q-bio.NC". */
const CATEGORY = /^[a-z]{1,10}(?:-[a-z]{1,10})?(?:\.[a-z]{2,3})?$/i;

/** "hf-daily" | "arxiv-rss:cs.LG" | "arxiv-api:cs.LG" → SourceSpec; a message for anything else. */
export function parseSourceSpec(raw: string): SourceSpec | string {
  const s = raw.trim();
  if (s === 'hf-daily') return { kind: 'hf-daily', name: 'hf-daily' };
  const m = /^(arxiv-rss|arxiv-api):(.+)$/.exec(s);
  if (!m) return `"${s}" is not a source (use hf-daily, arxiv-rss:CATEGORY or arxiv-api:CATEGORY)`;
  if (!CATEGORY.test(m[2])) return `"${m[2]}" is not an arXiv category (e.g. cs.LG)`;
  return { kind: m[1] as SourceKind, category: m[2], name: `${m[1]}:${m[2].toLowerCase()}` };
}

const sourceList = z
  .string()
  .transform((v, ctx) => {
    const specs: SourceSpec[] = [];
    for (const item of v.split(',').filter((x) => x.trim())) {
      const spec = parseSourceSpec(item);
      if (typeof spec === 'string') ctx.addIssue({ code: 'custom', message: spec });
      else if (!specs.some((x) => x.name === spec.name)) specs.push(spec);
    }
    return specs;
  });

/** A cron pattern as BullMQ's job schedulers read it: 5 fields, or 6 with seconds first. Evaluated in UTC. */
const cron = z.string().refine(
  (v) => {
    try {
      CronExpressionParser.parse(v, { tz: 'UTC' });
      return v.trim().split(/\s+/).length >= 5;
    } catch {
      return false;
    }
  },
  { message: 'must be a cron pattern such as "30 23 * * *" (minute hour day month weekday, UTC)' },
);

const httpUrl = z.string().refine(
  (v) => {
    try {
      return ['http:', 'https:'].includes(new URL(v).protocol);
    } catch {
      return false;
    }
  },
  { message: 'must be an http(s) URL' },
);

const hostList = z.string().transform((v) =>
  v
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter(Boolean),
);

export const sourcesEnv = {
  /** Enabled sources, comma separated. Default: none (nothing reaches the internet). */
  SOURCES: sourceList.default([]),
  SOURCE_SCHEDULE_HF: cron.default('30 23 * * *'),
  SOURCE_SCHEDULE_ARXIV: cron.default('0 6 * * 1-5'),
  SOURCE_RETRY_DELAY_MS: z.coerce.number().int().min(10).max(86_400_000).default(60_000),
  HF_API_URL: httpUrl.default('https://huggingface.co'),
  ARXIV_API_URL: httpUrl.default('https://export.arxiv.org'),
  ARXIV_RSS_URL: httpUrl.default('https://rss.arxiv.org'),
  /** arXiv asks for one request every 3 seconds on a single connection. */
  ARXIV_REQUEST_INTERVAL_MS: z.coerce.number().int().min(0).max(600_000).default(3_000),
  /** Hosts (names or IPs) exempt from the private-address check, for tests and local mirrors. */
  FETCH_ALLOW_HOSTS: hostList.default([]),
};
