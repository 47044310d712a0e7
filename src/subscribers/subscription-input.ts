import { BadRequestException } from '@nestjs/common';
import { Frequency } from '../generated/prisma/client';
import { MAX_QUERY_LENGTH, validateQuery } from '../matching/engine';
import { isValidEmail, MAX_TOPICS_PER_SUBSCRIBER, normalizeEmail, normalizeTopic } from './subscribers.service';

/** Pure parsing and validation of what the subscribe form, the preference centre and the API send. */

export const FREQUENCIES: readonly Frequency[] = ['instant', 'daily', 'weekly'];
export const DEFAULT_SEND_HOUR = 8;
/** Version of the consent wording on the subscribe form; stored with each consent record. */
export const FORM_VERSION = 'subscribe-form/2026-11';
export const API_VERSION = 'api/v1';

const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

let zones: Set<string> | undefined;
/** IANA zones this runtime knows (PostgreSQL knows the same tz database), plus UTC. */
export function timeZones(): string[] {
  zones ??= new Set(['UTC', ...Intl.supportedValuesOf('timeZone')]);
  return [...zones];
}
export function isTimeZone(tz: string): boolean {
  timeZones();
  return zones!.has(tz);
}

export interface TopicInput {
  label: string;
  query: string;
}

export interface SubscriptionInput {
  email: string;
  topics: TopicInput[];
  frequency: Frequency;
  timezone: string;
  sendHour: number;
}

export type PreferencesInput = Omit<SubscriptionInput, 'email'>;

/** One problem per field, keyed by field name (the form shows each beside its field). */
export class InputErrors extends BadRequestException {
  constructor(readonly fields: Record<string, string>) {
    const message = Object.entries(fields).map(([k, v]) => `${k}: ${v}`).join('; ');
    super({ statusCode: 400, error: 'Bad Request', message, fields });
  }
}

/** Topics arrive as an array (API) or as text with one alert per line (form). */
export function topicLines(raw: unknown): string[] | undefined {
  if (Array.isArray(raw)) return raw.map((t) => (typeof t === 'string' ? t : String(t ?? '')));
  if (typeof raw === 'string') return raw.split(/\r?\n/);
  return undefined;
}

/** Validates alerts with the query language's own messages; returns per-alert problems too. */
export function checkTopics(raw: unknown): { topics: TopicInput[]; error?: string } {
  const lines = topicLines(raw);
  if (!lines) return { topics: [], error: 'give at least one alert' };
  const labels = [...new Set(lines.map((t) => t.replace(/[ \t]+/g, ' ').trim()).filter(Boolean))];
  if (labels.length === 0) return { topics: [], error: 'give at least one alert' };
  if (labels.length > MAX_TOPICS_PER_SUBSCRIBER) return { topics: [], error: `at most ${MAX_TOPICS_PER_SUBSCRIBER} alerts (you gave ${labels.length})` };
  for (const [i, label] of labels.entries()) {
    const where = `alert ${i + 1} "${label.length > 60 ? `${label.slice(0, 60)}…` : label}"`;
    if (CONTROL.test(label)) return { topics: [], error: `${where} contains control characters` };
    if (label.length > MAX_QUERY_LENGTH) return { topics: [], error: `${where} is longer than ${MAX_QUERY_LENGTH} characters` };
    const problem = validateQuery(label);
    if (problem) return { topics: [], error: `${where}: ${problem}` };
  }
  return { topics: labels.map((label) => ({ label, query: normalizeTopic(label) })) };
}

function field(body: Record<string, unknown>, name: string): unknown {
  const v = body[name];
  return Array.isArray(v) && name !== 'topics' ? v[0] : v;
}

/** Frequency, time zone and send hour, shared by subscribe and the preference centre. */
function parseSchedule(body: Record<string, unknown>, errors: Record<string, string>): Omit<PreferencesInput, 'topics'> {
  const frequency = field(body, 'frequency') ?? 'daily';
  if (typeof frequency !== 'string' || !FREQUENCIES.includes(frequency as Frequency)) errors.frequency = 'must be instant, daily or weekly';
  const tzRaw = field(body, 'timezone');
  const timezone = tzRaw === undefined || tzRaw === '' ? 'UTC' : tzRaw;
  if (typeof timezone !== 'string' || !isTimeZone(timezone)) errors.timezone = 'must be an IANA time zone such as Europe/Paris';
  const hourRaw = field(body, 'sendHour');
  const sendHour = hourRaw === undefined || hourRaw === '' ? DEFAULT_SEND_HOUR : Number(hourRaw);
  if (!Number.isInteger(sendHour) || sendHour < 0 || sendHour > 23) errors.sendHour = 'must be a whole hour from 0 to 23';
  return { frequency: frequency as Frequency, timezone: timezone as string, sendHour };
}

function asBody(raw: unknown): Record<string, unknown> {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new BadRequestException('send a JSON object or a form');
  return raw as Record<string, unknown>;
}

export function parseSubscription(raw: unknown): SubscriptionInput {
  const body = asBody(raw);
  const errors: Record<string, string> = {};
  const emailRaw = field(body, 'email');
  const email = typeof emailRaw === 'string' ? normalizeEmail(emailRaw) : '';
  if (!email) errors.email = 'enter your email address';
  else if (!isValidEmail(email)) errors.email = 'that does not look like an email address';
  const { topics, error } = checkTopics(body.topics);
  if (error) errors.topics = error;
  const schedule = parseSchedule(body, errors);
  if (Object.keys(errors).length) throw new InputErrors(errors);
  return { email, topics, ...schedule };
}

export function parsePreferences(raw: unknown): PreferencesInput {
  const body = asBody(raw);
  const errors: Record<string, string> = {};
  const { topics, error } = checkTopics(body.topics);
  if (error) errors.topics = error;
  const schedule = parseSchedule(body, errors);
  if (Object.keys(errors).length) throw new InputErrors(errors);
  return { topics, ...schedule };
}

/** `YYYY-MM-DD` in the future (at most a year ahead) → that day's start in UTC; '' → resume now. */
export function parsePauseUntil(raw: unknown, now = new Date()): Date | null {
  const v = Array.isArray(raw) ? raw[0] : raw;
  if (v === undefined || v === null || v === '') return null;
  if (typeof v !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(v)) throw new InputErrors({ until: 'must be a date (YYYY-MM-DD)' });
  const d = new Date(`${v}T00:00:00Z`);
  if (Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== v) throw new InputErrors({ until: 'must be a real date' });
  if (d <= now) throw new InputErrors({ until: 'must be in the future' });
  if (d.getTime() - now.getTime() > 366 * 24 * 3600_000) throw new InputErrors({ until: 'can be at most a year ahead' });
  return d;
}

const WEEKDAYS = ['', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];

/** 'every day at 08:00 (Europe/Paris)' and the like, for emails and pages. */
export function scheduleLabel(s: { frequency: Frequency; sendHour: number; timezone: string; sendWeekday?: number }): string {
  const at = `${String(s.sendHour).padStart(2, '0')}:00 (${s.timezone.replace(/_/g, ' ')})`;
  if (s.frequency === 'instant') return 'as soon as a new batch of papers matches';
  if (s.frequency === 'daily') return `once a day, at ${at}`;
  return `once a week, on ${WEEKDAYS[s.sendWeekday ?? 1]} at ${at}`;
}
