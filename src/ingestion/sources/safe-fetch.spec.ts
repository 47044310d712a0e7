import { checkUrl, FetchError, isBlockedAddress, RequestSpacer } from './safe-fetch';

describe('address checks', () => {
  it.each([
    '127.0.0.1',
    '10.1.2.3',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '224.0.0.1',
    '255.255.255.255',
    '::1',
    '::',
    'fe80::1',
    'fd00:ec2::254',
    'fc00::1',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '::ffff:a9fe:a9fe',
    '64:ff9b::a9fe:a9fe',
    'not-an-ip',
  ])('refuses %s', (ip) => expect(isBlockedAddress(ip)).toBe(true));

  it.each(['8.8.8.8', '151.101.1.140', '172.32.0.1', '2606:4700::6810:85e5', '::ffff:8.8.8.8'])('allows %s', (ip) =>
    expect(isBlockedAddress(ip)).toBe(false),
  );

  it('checks URLs before connecting: scheme, credentials, literal private addresses', () => {
    const refuse = (u: string, allow: string[] = []) => {
      try {
        checkUrl(u, allow);
      } catch (e) {
        expect(e).toBeInstanceOf(FetchError);
        expect((e as FetchError).retriable).toBe(false);
        return (e as Error).message;
      }
      throw new Error(`${u} was accepted`);
    };
    expect(refuse('file:///etc/passwd')).toBe('refused: file: URLs are not fetched (http and https only)');
    expect(refuse('gopher://example.org/')).toMatch(/http and https only/);
    expect(refuse('http://user:pw@example.org/')).toMatch(/credentials/);
    expect(refuse('http://169.254.169.254/latest/meta-data/')).toBe('refused: 169.254.169.254 is a private or reserved address');
    expect(refuse('http://[::1]:8080/')).toMatch(/::1 is a private/);
    expect(refuse('http://[::ffff:127.0.0.1]/')).toMatch(/private/);
    expect(refuse('http://2130706433/')).toMatch(/127\.0\.0\.1 is a private/); // decimal IPv4, normalised by URL
    expect(refuse('not a url')).toMatch(/is not a URL/);
    expect(checkUrl('http://127.0.0.1:9/x', ['127.0.0.1']).toString()).toBe('http://127.0.0.1:9/x');
    expect(checkUrl('https://huggingface.co/api/daily_papers').hostname).toBe('huggingface.co');
  });
});

describe('RequestSpacer', () => {
  it('runs one request at a time, spaced by the interval, even after a failure', async () => {
    const spacer = new RequestSpacer(60);
    const log: { start: number; end: number }[] = [];
    let open = 0;
    let maxOpen = 0;
    const task = (fail: boolean) => async () => {
      open++;
      maxOpen = Math.max(maxOpen, open);
      const start = Date.now();
      await new Promise((r) => setTimeout(r, 10));
      open--;
      log.push({ start, end: Date.now() });
      if (fail) throw new Error('boom');
      return start;
    };
    const results = await Promise.allSettled([spacer.run(task(false)), spacer.run(task(true)), spacer.run(task(false))]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(maxOpen).toBe(1);
    for (let i = 1; i < log.length; i++) expect(log[i].start - log[i - 1].end).toBeGreaterThanOrEqual(55);
  });
});
