import { BadRequestException, Injectable } from '@nestjs/common';
import { Frequency, SubscriberStatus } from '../generated/prisma/client';
import { validateQuery } from '../matching/engine';
import { SubscribersRepository } from './subscribers.repository';
import { TokensService } from './tokens.service';

export const MAX_TOPICS_PER_SUBSCRIBER = 20;
const EMAIL = /^[^\s@<>()[\]\\,;:"\u0000-\u001f]{1,64}@[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/;

export function normalizeEmail(raw: string): string {
  return raw.trim().toLowerCase();
}

/** A normalised address we are willing to send to (no controls, no display names, no comments). */
export function isValidEmail(email: string): boolean {
  return email.length <= 254 && EMAIL.test(email);
}

/** The sharing key of a topic: spacing does not make a different alert (case may: `OR` is an operator). */
export function normalizeTopic(raw: string): string {
  return raw.replace(/\s+/g, ' ').trim();
}

export interface AddSubscriber {
  email: string;
  topics: string[];
  frequency?: Frequency;
  status?: SubscriberStatus;
  consentSource: string;
}

@Injectable()
export class SubscribersService {
  constructor(
    private readonly repo: SubscribersRepository,
    private readonly tokens: TokensService,
  ) {}

  /** Validates the address and every alert (with the query language's own messages). */
  async addOrUpdate(input: AddSubscriber): Promise<{ id: string; created: boolean }> {
    const email = normalizeEmail(input.email);
    if (!EMAIL.test(email) || email.length > 254) throw new BadRequestException(`email: "${input.email}" is not a valid address`);
    const labels = [...new Set(input.topics.map((t) => t.replace(/\s+/g, ' ').trim()).filter(Boolean))];
    if (labels.length === 0) throw new BadRequestException('topics: give at least one topic');
    if (labels.length > MAX_TOPICS_PER_SUBSCRIBER) throw new BadRequestException(`topics: at most ${MAX_TOPICS_PER_SUBSCRIBER} topics`);
    labels.forEach((label, i) => {
      const problem = validateQuery(label);
      if (problem) throw new BadRequestException(`topics[${i}] "${label}": ${problem}`);
    });
    // An erased address is never re-added by an import or an admin: only its owner, by confirming.
    if (await this.repo.isSuppressed(this.tokens.addressHash(email)))
      throw new BadRequestException(`email: "${input.email}" was erased at its owner's request and can only return by confirming a new subscription`);
    return this.repo.upsertWithTopics({
      email,
      topics: labels.map((label) => ({ label, query: normalizeTopic(label) })),
      frequency: input.frequency ?? 'instant',
      status: input.status ?? 'pending',
      consentSource: input.consentSource,
    });
  }

  idByEmail(email: string): Promise<string | undefined> {
    return this.repo.idByEmail(normalizeEmail(email));
  }

  unsubscribe(id: string): Promise<boolean> {
    return this.repo.unsubscribe(id);
  }

  /** Erases everything about the subscriber; the address's keyed hash stays as a suppression. False if there was none. */
  erase(id: string): Promise<boolean> {
    return this.repo.erase(id, (email) => this.tokens.addressHash(email));
  }
}
