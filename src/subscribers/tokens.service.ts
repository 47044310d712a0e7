import { createHmac, createSecretKey, KeyObject, timingSafeEqual } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';

export type TokenPurpose = 'unsubscribe' | 'manage' | 'confirm' | 'delivery';

/** How long a token of each purpose stays valid. Unsubscribe links must keep working for months. */
const LIFETIME_SECONDS: Record<TokenPurpose, number> = {
  unsubscribe: 400 * 24 * 3600,
  manage: 90 * 24 * 3600,
  confirm: 7 * 24 * 3600,
  delivery: 400 * 24 * 3600,
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** What a token of each purpose names: a subscriber (uuid), or for 'delivery' links a delivery id. */
const SUBJECT: Record<TokenPurpose, RegExp> = { unsubscribe: UUID, manage: UUID, confirm: UUID, delivery: /^[1-9][0-9]{0,15}$/ };

/**
 * Purpose-bound, HMAC-signed tokens: `<subscriberId>.<issuedAt base36>.<signature>`. The key is
 * derived per purpose, so an unsubscribe token never works as a manage token.
 */
@Injectable()
export class TokensService {
  /** The keys derived from APP_SECRET, by purpose (derived once: every email signs two tokens). */
  private readonly keys = new Map<string, KeyObject>();

  constructor(private readonly config: AppConfig) {}

  sign(purpose: TokenPurpose, subscriberId: string, now = new Date()): string {
    const issued = Math.floor(now.getTime() / 1000).toString(36);
    return `${subscriberId}.${issued}.${this.mac(purpose, `${subscriberId}.${issued}`)}`;
  }

  /** The subscriber id, or null for any bad, expired or tampered token (callers answer all alike). */
  verify(purpose: TokenPurpose, token: string, now = new Date()): string | null {
    if (typeof token !== 'string' || token.length > 200) return null;
    const parts = token.split('.');
    if (parts.length !== 3) return null;
    const [id, issued, sig] = parts;
    const expected = Buffer.from(this.mac(purpose, `${id}.${issued}`));
    const given = Buffer.from(sig);
    const ok = given.length === expected.length && timingSafeEqual(given, expected);
    if (!ok || !SUBJECT[purpose].test(id)) return null;
    const issuedAt = parseInt(issued, 36);
    const age = now.getTime() / 1000 - issuedAt;
    if (!Number.isFinite(issuedAt) || age < -300 || age > this.lifetime(purpose)) return null;
    return id;
  }

  /**
   * A keyed hash of a normalised address: what a suppression keeps of an erased subscriber. Keyed
   * so the list cannot be reversed with a dictionary of addresses by whoever reads the database.
   */
  addressHash(email: string): string {
    return createHmac('sha256', this.key('paperboy-address-hash')).update(email).digest('hex');
  }

  lifetime(purpose: TokenPurpose): number {
    return purpose === 'confirm' ? this.config.env.CONFIRM_TOKEN_TTL_HOURS * 3600 : LIFETIME_SECONDS[purpose];
  }

  private mac(purpose: TokenPurpose, data: string): string {
    return createHmac('sha256', this.key(`paperboy-token:${purpose}`)).update(data).digest('base64url');
  }

  /** HMAC(APP_SECRET, label): the key of one use of the secret. */
  private key(label: string): KeyObject {
    let key = this.keys.get(label);
    if (key === undefined) {
      key = createSecretKey(createHmac('sha256', this.config.env.APP_SECRET).update(label).digest());
      this.keys.set(label, key);
    }
    return key;
  }
}
