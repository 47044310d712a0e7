import { DigestFormatError } from '../digest.types';

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/** "Jul 15", "July 15", "Jul 15, 2025", "15 Jul 2025". */
const MONTH_DAY = /^([A-Za-z]{3,9})\.?\s+(\d{1,2})(?:(?:,\s*|\s+)(\d{4}))?$/;
const DAY_MONTH = /^(\d{1,2})\s+([A-Za-z]{3,9})\.?(?:\s+(\d{4}))?$/;
const ISO = /^(\d{4})-(\d{2})-(\d{2})$/;

export interface PartialDate {
  month: number; // 1-12
  day: number;
  year?: number;
}

function monthIndex(name: string): number | undefined {
  const m = name.toLowerCase();
  const i = MONTHS.findIndex((p) => m.startsWith(p) && (m.length === 3 || 'january february march april may june july august september october november december'.includes(m)));
  return i < 0 ? undefined : i + 1;
}

/** Recognises a date line; returns undefined for anything else. */
export function parseDateText(text: string): PartialDate | undefined {
  const s = text.trim();
  let m = ISO.exec(s);
  if (m) return validDay({ year: +m[1], month: +m[2], day: +m[3] });
  m = MONTH_DAY.exec(s);
  if (m) {
    const month = monthIndex(m[1]);
    return month ? validDay({ month, day: +m[2], year: m[3] ? +m[3] : undefined }) : undefined;
  }
  m = DAY_MONTH.exec(s);
  if (m) {
    const month = monthIndex(m[2]);
    return month ? validDay({ month, day: +m[1], year: m[3] ? +m[3] : undefined }) : undefined;
  }
  return undefined;
}

function validDay(d: PartialDate): PartialDate | undefined {
  if (d.month < 1 || d.month > 12 || d.day < 1 || d.day > 31) return undefined;
  // Feb 29 is valid in some year; other impossible days are not.
  const probeYear = d.year ?? 2024;
  const date = new Date(Date.UTC(probeYear, d.month - 1, d.day));
  if (date.getUTCMonth() !== d.month - 1) return undefined;
  return d;
}

/**
 * A date without a year is the latest such date not in the future (a page saying "Dec 30" read on
 * Jan 2 is last year's), unless the caller names the year.
 */
export function resolveDate(d: PartialDate, now: Date, explicitYear?: number): Date {
  const year = d.year ?? explicitYear;
  if (year !== undefined) {
    const date = new Date(Date.UTC(year, d.month - 1, d.day));
    if (date.getUTCMonth() !== d.month - 1) throw new DigestFormatError(`${year} has no ${MONTHS[d.month - 1]} ${d.day}`, undefined, 'date');
    return date;
  }
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  for (let y = now.getUTCFullYear(); y > now.getUTCFullYear() - 8; y--) {
    const date = new Date(Date.UTC(y, d.month - 1, d.day));
    if (date.getUTCMonth() === d.month - 1 && date.getTime() <= today) return date;
  }
  throw new DigestFormatError(`cannot resolve date ${d.month}/${d.day}`, undefined, 'date');
}

export function formatIsoDate(d: Date): string {
  return d.toISOString().slice(0, 10);
}
