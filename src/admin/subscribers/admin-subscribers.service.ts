import { BadRequestException, Injectable, NotFoundException } from '@nestjs/common';
import { Frequency, SubscriberStatus } from '../../generated/prisma/client';
import { validateQuery } from '../../matching/engine';
import { MAX_TOPICS_PER_SUBSCRIBER, normalizeTopic, SubscribersService } from '../../subscribers/subscribers.service';
import { csvLine } from '../csv';
import { AdminSubscribersRepository, Cursor, SORTS, SubscriberFilter, SubscriberRow, SubscriberSort } from './admin-subscribers.repository';

export const STATUSES: SubscriberStatus[] = ['pending', 'active', 'suspended', 'unsubscribed', 'bounced'];
export const FREQUENCIES: Frequency[] = ['instant', 'daily', 'weekly'];

export interface ListQuery {
  q?: string;
  topic?: string;
  status?: string;
  frequency?: string;
  sort?: string;
  after?: string;
  limit?: string | number;
}

export interface SubscriberPage {
  rows: SubscriberRow[];
  /** Cursor of the next page, or null on the last page. */
  next: string | null;
  filter: SubscriberFilter;
  sort: SubscriberSort;
  estimatedTotal: number;
}

const str = (v: unknown, max = 200) => (typeof v === 'string' && v.trim() ? v.trim().slice(0, max) : undefined);

export function parseFilter(q: ListQuery): { filter: SubscriberFilter; sort: SubscriberSort } {
  const status = str(q.status);
  const frequency = str(q.frequency);
  const sort = str(q.sort) ?? 'created_desc';
  if (status && !STATUSES.includes(status as SubscriberStatus)) throw new BadRequestException(`status: one of ${STATUSES.join(', ')}`);
  if (frequency && !FREQUENCIES.includes(frequency as Frequency)) throw new BadRequestException(`frequency: one of ${FREQUENCIES.join(', ')}`);
  if (!SORTS.includes(sort as SubscriberSort)) throw new BadRequestException(`sort: one of ${SORTS.join(', ')}`);
  return {
    filter: { q: str(q.q)?.toLowerCase(), topic: str(q.topic), status: status as SubscriberStatus | undefined, frequency: frequency as Frequency | undefined },
    sort: sort as SubscriberSort,
  };
}

const encodeCursor = (c: Cursor) => Buffer.from(JSON.stringify([c.v, c.id])).toString('base64url');
function decodeCursor(s: string | undefined): Cursor | undefined {
  if (!s) return undefined;
  try {
    const [v, id] = JSON.parse(Buffer.from(s, 'base64url').toString()) as unknown[];
    if (typeof v === 'string' && typeof id === 'string' && /^[0-9a-f-]{36}$/.test(id) && v.length < 400) return { v, id };
  } catch {
    /* fall through */
  }
  throw new BadRequestException('after: not a cursor from a previous page');
}

/** Parses the admin's topic textarea: one alert per line, each checked by the query language. */
export function parseTopics(raw: string | string[]): { label: string; query: string }[] {
  const lines = (Array.isArray(raw) ? raw : raw.split(/\r?\n/)).map((t) => String(t).replace(/\s+/g, ' ').trim()).filter(Boolean);
  const labels = [...new Set(lines)];
  if (labels.length === 0) throw new BadRequestException('topics: give at least one topic');
  if (labels.length > MAX_TOPICS_PER_SUBSCRIBER) throw new BadRequestException(`topics: at most ${MAX_TOPICS_PER_SUBSCRIBER} topics`);
  return labels.map((label, i) => {
    const problem = validateQuery(label);
    if (problem) throw new BadRequestException(`topics[${i}] "${label}": ${problem}`);
    return { label, query: normalizeTopic(label) };
  });
}

@Injectable()
export class AdminSubscribersService {
  constructor(
    private readonly repo: AdminSubscribersRepository,
    private readonly subscribers: SubscribersService,
  ) {}

  async list(query: ListQuery): Promise<SubscriberPage> {
    const { filter, sort } = parseFilter(query);
    const limit = Math.min(Math.max(Number(query.limit) || 50, 1), 500);
    const rows = await this.repo.list(filter, sort, limit + 1, decodeCursor(query.after));
    const more = rows.length > limit;
    if (more) rows.pop();
    const last = rows[rows.length - 1];
    const next = more && last ? encodeCursor({ v: sort.startsWith('email') ? last.email : last.createdAt.toISOString(), id: last.id }) : null;
    return { rows, next, filter, sort, estimatedTotal: await this.repo.estimatedTotal() };
  }

  async detail(id: string) {
    const s = this.isId(id) ? await this.repo.detail(id) : null;
    if (!s) throw new NotFoundException('no such subscriber');
    return s;
  }

  async update(id: string, input: { frequency?: unknown; topics?: unknown }): Promise<void> {
    const frequency = String(input.frequency ?? '');
    if (!FREQUENCIES.includes(frequency as Frequency)) throw new BadRequestException(`frequency: one of ${FREQUENCIES.join(', ')}`);
    if (typeof input.topics !== 'string' && !Array.isArray(input.topics)) throw new BadRequestException('topics: give at least one topic');
    const topics = parseTopics(input.topics as string | string[]);
    if (!this.isId(id) || !(await this.repo.update(id, frequency as Frequency, topics))) throw new NotFoundException('no such subscriber');
  }

  /** Returns false when the subscriber was not in a state the action applies to. */
  async act(id: string, action: 'suspend' | 'resume' | 'unsubscribe' | 'erase'): Promise<boolean> {
    await this.detail(id);
    switch (action) {
      case 'suspend':
        return this.repo.setStatus(id, 'active', 'suspended');
      case 'resume':
        return this.repo.setStatus(id, 'suspended', 'active');
      case 'unsubscribe':
        return this.repo.unsubscribe(id);
      case 'erase':
        return this.subscribers.erase(id);
    }
  }

  /** The filtered list as CSV, streamed page by page (keyset), so an export of a million rows holds little memory. */
  async *exportCsv(query: ListQuery): AsyncGenerator<string> {
    const { filter } = parseFilter(query);
    yield csvLine(['email', 'status', 'frequency', 'timezone', 'created_at', 'confirmed_at', 'topics']);
    let after: Cursor | undefined;
    for (;;) {
      const rows = await this.repo.list(filter, 'created_asc', 5000, after);
      if (rows.length === 0) return;
      yield rows.map((r) => csvLine([r.email, r.status, r.frequency, r.timezone, r.createdAt, r.confirmedAt, r.topics.join('\n')])).join('');
      const last = rows[rows.length - 1];
      after = { v: last.createdAt.toISOString(), id: last.id };
    }
  }

  private isId(id: string): boolean {
    return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id);
  }
}
