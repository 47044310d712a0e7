import type { DigestInput } from '../digest.types';
import type { PaperRevision } from '../ingestion.repository';
import type { SafeResponse } from './safe-fetch';

/** Inclusive range of calendar days (UTC midnights). */
export interface DayRange {
  from: Date;
  to: Date;
}

/** What a source yields as it goes: digests to ingest, revisions to apply, and progress. */
export interface SourceBatch {
  digests: DigestInput[];
  revisions: PaperRevision[];
  /** Items dropped as invalid (no title, 10 MB title, bad id, …), with the first reasons. */
  skipped: number;
  problems: string[];
  progress: { done: number; total: number };
}

/**
 * One feed source. `pull` fetches the range (or, for a listing without history, what it serves
 * now) and yields batches; parse functions live beside each adapter and are pure.
 */
export interface PaperSource {
  /** The digest `source` string, e.g. "hf-daily". */
  readonly name: string;
  /** False for listings that serve only today (arXiv RSS): they cannot backfill. */
  readonly supportsRange: boolean;
  /** The days a scheduled pull asks for, relative to now. */
  scheduledRange(now: Date): DayRange;
  pull(range: DayRange): AsyncIterable<SourceBatch>;
}

/** GET through safeFetch with the process's allow-list (and the arXiv spacing, where it applies). */
export type Fetcher = (url: string, accept: string) => Promise<SafeResponse>;

/** Items a parser kept, and why it dropped the others. */
export interface ParsedItems<T> {
  items: T[];
  skipped: number;
  problems: string[];
}

export const DAY_MS = 86_400_000;

export function utcDay(d: Date): Date {
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
}

export function daysOf(range: DayRange): Date[] {
  const out: Date[] = [];
  for (let t = utcDay(range.from).getTime(); t <= utcDay(range.to).getTime(); t += DAY_MS) out.push(new Date(t));
  return out;
}
