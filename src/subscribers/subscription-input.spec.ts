import { trustProxySetting } from './rate-limit';
import { checkTopics, InputErrors, parsePauseUntil, parseSubscription, scheduleLabel } from './subscription-input';

describe('subscription input', () => {
  it('normalises a valid subscription and applies defaults', () => {
    expect(parseSubscription({ email: ' Ada@Example.ORG ', topics: 'diffusion models\r\n\n  "neural   collapse" \ndiffusion models' })).toEqual({
      email: 'ada@example.org',
      topics: [
        { label: 'diffusion models', query: 'diffusion models' },
        { label: '"neural collapse"', query: '"neural collapse"' },
      ],
      frequency: 'daily',
      timezone: 'UTC',
      sendHour: 8,
    });
  });

  it('names every bad field at once', () => {
    try {
      parseSubscription({ email: 'x', topics: ['ok'], frequency: 'hourly', timezone: 'Nowhere/City', sendHour: '7.5' });
      throw new Error('expected InputErrors');
    } catch (e) {
      expect(e).toBeInstanceOf(InputErrors);
      expect(Object.keys((e as InputErrors).fields).sort()).toEqual(['email', 'frequency', 'sendHour', 'timezone']);
    }
  });

  it('checks alerts with the query language and the limits', () => {
    expect(checkTopics(['a\u0000b']).error).toMatch(/control characters/);
    expect(checkTopics(['(open']).error).toMatch(/^alert 1 "\(open": /);
    expect(checkTopics([]).error).toBe('give at least one alert');
    expect(checkTopics(Array.from({ length: 21 }, (_, i) => `t${i}`)).error).toMatch(/at most 20/);
    expect(checkTopics(['title:pruning -survey']).error).toBeUndefined();
  });

  it('pauses until a real future date, at most a year ahead', () => {
    const now = new Date('2026-01-10T12:00:00Z');
    expect(parsePauseUntil('2026-02-01', now)).toEqual(new Date('2026-02-01T00:00:00Z'));
    expect(parsePauseUntil('', now)).toBeNull();
    for (const bad of ['2026-01-10', '2026-02-30', '2027-06-01', '01/02/2026', 5]) expect(() => parsePauseUntil(bad, now)).toThrow(InputErrors);
  });

  it('describes schedules for people', () => {
    expect(scheduleLabel({ frequency: 'daily', sendHour: 7, timezone: 'America/New_York' })).toBe('once a day, at 07:00 (America/New York)');
    expect(scheduleLabel({ frequency: 'weekly', sendHour: 18, timezone: 'UTC', sendWeekday: 5 })).toBe('once a week, on Friday at 18:00 (UTC)');
  });

  it('reads TRUST_PROXY', () => {
    expect(trustProxySetting('false')).toBe(false);
    expect(trustProxySetting('true')).toBe(true);
    expect(trustProxySetting('2')).toBe(2);
    expect(trustProxySetting('loopback, 10.0.0.0/8')).toBe('loopback, 10.0.0.0/8');
  });
});
