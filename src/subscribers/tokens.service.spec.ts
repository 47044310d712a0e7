import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { AppConfig } from '../config/app-config';
import { TokenPurpose, TokensService } from './tokens.service';

const config = AppConfig.fromProcessEnv({ NODE_ENV: 'test', APP_SECRET: 'unit-test-secret-'.padEnd(40, 'x'), CONFIRM_TOKEN_TTL_HOURS: '48' });
const tokens = new TokensService(config);
const other = new TokensService(AppConfig.fromProcessEnv({ NODE_ENV: 'test', APP_SECRET: 'another-secret-'.padEnd(40, 'y') }));
const PURPOSES: TokenPurpose[] = ['unsubscribe', 'manage', 'confirm'];
const DAY = 24 * 3600_000;

describe('TokensService', () => {
  it('round-trips for its purpose and subscriber only', () => {
    fc.assert(
      fc.property(fc.uuid(), fc.constantFrom(...PURPOSES), fc.constantFrom(...PURPOSES), (id, purpose, other) => {
        const token = tokens.sign(purpose, id);
        expect(tokens.verify(purpose, token)).toBe(id);
        if (other !== purpose) expect(tokens.verify(other, token)).toBeNull();
      }),
    );
  });

  it('rejects any single-character change, truncation or extension of a valid token', () => {
    const base = tokens.sign('unsubscribe', randomUUID());
    fc.assert(
      fc.property(fc.nat({ max: base.length - 1 }), fc.string({ minLength: 1, maxLength: 1, unit: 'grapheme-ascii' }), (i, c) => {
        fc.pre(base[i] !== c);
        const changed = base.slice(0, i) + c + base.slice(i + 1);
        expect(tokens.verify('unsubscribe', changed)).toBeNull();
      }),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(fc.nat({ max: base.length - 1 }), fc.string({ maxLength: 8 }), (cut, extra) => {
        // Not the token itself: cutting its last character and appending that same one gives it back.
        fc.pre(base.slice(0, cut) + extra !== base);
        expect(tokens.verify('unsubscribe', base.slice(0, cut) + extra)).toBeNull();
        if (extra) expect(tokens.verify('unsubscribe', base + extra)).toBeNull();
      }),
    );
  });

  it('rejects arbitrary strings, other secrets and swapped subscriber ids', () => {
    fc.assert(fc.property(fc.string({ maxLength: 300 }), (s) => expect(tokens.verify('manage', s)).toBeNull()));
    fc.assert(
      fc.property(fc.uuid(), fc.uuid(), (a, b) => {
        fc.pre(a !== b);
        expect(tokens.verify('manage', other.sign('manage', a))).toBeNull();
        const [, issued, sig] = tokens.sign('manage', a).split('.');
        expect(tokens.verify('manage', `${b}.${issued}.${sig}`)).toBeNull();
      }),
    );
  });

  it('unsubscribe links work for at least 60 days; confirm links expire after CONFIRM_TOKEN_TTL_HOURS', () => {
    const id = randomUUID();
    const now = new Date();
    expect(tokens.verify('unsubscribe', tokens.sign('unsubscribe', id, new Date(now.getTime() - 61 * DAY)), now)).toBe(id);
    expect(tokens.verify('unsubscribe', tokens.sign('unsubscribe', id, new Date(now.getTime() - 365 * DAY)), now)).toBe(id);
    expect(tokens.verify('confirm', tokens.sign('confirm', id, new Date(now.getTime() - 47 * 3600_000)), now)).toBe(id);
    expect(tokens.verify('confirm', tokens.sign('confirm', id, new Date(now.getTime() - 49 * 3600_000)), now)).toBeNull();
    expect(tokens.verify('manage', tokens.sign('manage', id, new Date(now.getTime() + DAY)), now)).toBeNull(); // from the future
  });

  it('hashes addresses with a key (no plain sha256 of the address)', () => {
    const h = tokens.addressHash('ada@example.org');
    expect(h).toMatch(/^[0-9a-f]{64}$/);
    expect(h).not.toBe(other.addressHash('ada@example.org'));
    expect(h).toBe(tokens.addressHash('ada@example.org'));
  });
});
