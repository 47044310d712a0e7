import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { JobProducer } from '../infra/queue/job-producer.service';
import { ConfirmationMailer } from './confirmation-mailer.service';
import { Preferences, RequestOutcome, SelfServiceRepository } from './self-service.repository';
import { checkTopics, PreferencesInput, SubscriptionInput } from './subscription-input';
import { SubscribersService } from './subscribers.service';
import { TokenPurpose, TokensService } from './tokens.service';

export interface RequestContext {
  source: 'form' | 'api';
  formVersion: string;
  ip: string | undefined;
}

/**
 * Subscribe, confirm, manage and leave. Every action that needs proof of the inbox takes a
 * purpose-bound token; a bad, expired or unknown one gives null, and callers answer all alike.
 */
@Injectable()
export class SelfServiceService {
  private readonly logger = new Logger(SelfServiceService.name);

  constructor(
    private readonly repo: SelfServiceRepository,
    private readonly subscribers: SubscribersService,
    private readonly tokens: TokensService,
    private readonly jobs: JobProducer,
    private readonly mailer: ConfirmationMailer,
    private readonly config: AppConfig,
  ) {}

  /**
   * The same work whatever the address (new, pending, active, unsubscribed, erased): one row, one
   * job. The worker decides what, if anything, to send, so neither the answer nor its timing tells.
   */
  async requestSubscription(input: SubscriptionInput, ctx: RequestContext): Promise<void> {
    const id = await this.repo.createRequest({
      email: input.email,
      topics: input.topics.map((t) => t.label),
      frequency: input.frequency,
      timezone: input.timezone,
      sendHour: input.sendHour,
      source: ctx.source,
      formVersion: ctx.formVersion,
      ip: this.config.env.CONSENT_RECORD_IP ? (ctx.ip ?? null) : null,
    });
    await this.jobs.subscriptionRequest(id);
  }

  /** The worker's half: at most CONFIRM_EMAILS_PER_DAY confirmations per address, none to a bounced one. */
  async processRequest(requestId: string): Promise<RequestOutcome> {
    const { outcome, request } = await this.repo.decide(requestId, this.config.env.CONFIRM_EMAILS_PER_DAY);
    // Requests past any confirm link's lifetime only hold an address: drop them as we go.
    await this.repo.purgeRequestsBefore(new Date(Date.now() - (this.config.env.CONFIRM_TOKEN_TTL_HOURS + 24) * 3600_000));
    if (outcome !== 'send' || !request) {
      if (outcome !== 'done') this.logger.log(`subscribe request ${requestId}: no confirmation sent (${outcome})`);
      return outcome;
    }
    try {
      await this.mailer.send(request);
    } catch (err) {
      await this.repo.undoDecision(requestId);
      throw err;
    }
    this.logger.log(`subscribe request ${requestId}: confirmation sent`);
    return 'send';
  }

  /** Whether a confirm link is one we issued and still valid (the GET page shows a button only then). */
  async checkConfirm(token: string): Promise<boolean> {
    const id = this.tokens.verify('confirm', token);
    if (!id) return false;
    const r = await this.repo.request(id);
    return r !== null && r.outcome === 'sent';
  }

  /** Applies the request the link was issued for; the subscriber id, or null for any bad link. */
  async confirm(token: string): Promise<string | null> {
    const id = this.tokens.verify('confirm', token);
    if (!id) return null;
    const r = await this.repo.request(id);
    if (!r) return null;
    const { topics } = checkTopics(r.topics);
    return this.repo.confirm(id, this.tokens.addressHash(r.email), topics);
  }

  /** A subscriber id from a token of that purpose, or null. */
  subscriberFrom(purpose: TokenPurpose, token: string): string | null {
    return this.tokens.verify(purpose, token);
  }

  async preferences(token: string): Promise<Preferences | null> {
    const id = this.tokens.verify('manage', token);
    return id ? this.repo.preferences(id) : null;
  }

  async updatePreferences(token: string, input: PreferencesInput): Promise<boolean> {
    const id = this.tokens.verify('manage', token);
    return id ? this.repo.updatePreferences(id, input) : false;
  }

  async pause(token: string, until: Date | null): Promise<boolean> {
    const id = this.tokens.verify('manage', token);
    return id ? this.repo.pause(id, until) : false;
  }

  /** With an unsubscribe link (one-click) or from the preference centre. */
  async unsubscribe(purpose: 'unsubscribe' | 'manage', token: string): Promise<string | null> {
    const id = this.tokens.verify(purpose, token);
    if (!id) return null;
    return (await this.repo.unsubscribe(id, purpose === 'unsubscribe' ? 'one-click' : 'preference-centre')) ? id : null;
  }

  async resubscribe(token: string): Promise<boolean> {
    const id = this.tokens.verify('manage', token);
    return id ? this.repo.resubscribe(id) : false;
  }

  async export(token: string) {
    const id = this.tokens.verify('manage', token);
    return id ? this.repo.export(id) : null;
  }

  async erase(token: string): Promise<boolean> {
    const id = this.tokens.verify('manage', token);
    return id ? this.subscribers.erase(id) : false;
  }

  /** A fresh manage link for a subscriber we just identified by another token. */
  manageToken(subscriberId: string): string {
    return this.tokens.sign('manage', subscriberId);
  }
}
