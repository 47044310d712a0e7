import { lookup as dnsLookup, LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { BlockList, isIP } from 'node:net';

/**
 * Outbound HTTP for feed sources. A source URL comes from config, but every redirect is chosen by
 * the remote server, so each hop is checked again: http(s) only, and the address the socket
 * actually connects to (resolved here, not re-resolved later) must be public. Redirects, body
 * size and total time are capped.
 */
export interface SafeFetchOptions {
  /** Hosts (names or literal IPs, lower case) exempt from the address check: tests, local mirrors. */
  allowHosts?: readonly string[];
  maxRedirects?: number;
  maxBytes?: number;
  /** For the whole fetch, redirects included. */
  timeoutMs?: number;
  accept?: string;
}

export interface SafeResponse {
  /** The URL that answered, after redirects. */
  url: string;
  status: number;
  contentType: string;
  body: Buffer;
}

export const FETCH_DEFAULTS = { maxRedirects: 5, maxBytes: 20 * 1024 * 1024, timeoutMs: 30_000 };
const USER_AGENT = 'Paperboy/0.1 (self-hosted paper alerts; +https://github.com/)';

/** A fetch that did not produce a usable response. `retriable` is false for refusals and 4xx. */
export class FetchError extends Error {
  constructor(
    message: string,
    readonly retriable: boolean,
    readonly status?: number,
  ) {
    super(message);
  }
}

/** Private, loopback, link-local (cloud metadata), shared, documentation, multicast and reserved ranges. */
const blocked = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  blocked.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b:1::', 48],
  ['100::', 64],
  ['2001::', 23],
  ['2001:db8::', 32],
  ['2002::', 16],
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
] as const)
  blocked.addSubnet(net, prefix, 'ipv6');

/** IPv4 carried inside IPv6 (mapped ::ffff:a.b.c.d, NAT64 64:ff9b::/96) is judged as IPv4. */
function embeddedIpv4(address: string): string | undefined {
  const lower = address.toLowerCase();
  const dotted = /^(?:::ffff:|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (dotted) return dotted[1];
  const hex = /^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower);
  if (hex) {
    const hi = parseInt(hex[1], 16);
    const lo = parseInt(hex[2], 16);
    return [hi >> 8, hi & 255, lo >> 8, lo & 255].join('.');
  }
  return undefined;
}

/** True when an address is not a public unicast address. */
export function isBlockedAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return true;
  if (family === 4) return blocked.check(address, 'ipv4');
  const v4 = embeddedIpv4(address);
  if (v4) return blocked.check(v4, 'ipv4');
  if (/^::ffff:/i.test(address)) return true;
  return blocked.check(address, 'ipv6');
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** A `lookup` for the socket: resolves, refuses if any address is not public, hands over the checked ones. */
function checkedLookup(allowed: boolean) {
  return (hostname: string, options: { all?: boolean; family?: number }, callback: LookupCallback) => {
    dnsLookup(hostname, { all: true, family: options.family ?? 0 }, (err, addresses) => {
      if (err) return callback(err, []);
      const list = addresses as LookupAddress[];
      const bad = allowed ? undefined : list.find((a) => isBlockedAddress(a.address));
      if (bad) return callback(new FetchError(`refused: ${hostname} resolves to ${bad.address}, a private or reserved address`, false) as never, []);
      if (list.length === 0) return callback(Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }), []);
      if (options.all) callback(null, list);
      else callback(null, list[0].address, list[0].family);
    });
  };
}

function hostAllowed(hostname: string, allowHosts: readonly string[]): boolean {
  return allowHosts.includes(hostname.toLowerCase().replace(/^\[|\]$/g, ''));
}

/** Checks a URL before any connection: scheme, credentials, literal IPs. Throws FetchError. */
export function checkUrl(raw: string, allowHosts: readonly string[] = []): URL {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new FetchError(`refused: "${raw.slice(0, 200)}" is not a URL`, false);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new FetchError(`refused: ${u.protocol} URLs are not fetched (http and https only)`, false);
  if (u.username || u.password) throw new FetchError('refused: URLs with credentials are not fetched', false);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) && !hostAllowed(host, allowHosts) && isBlockedAddress(host))
    throw new FetchError(`refused: ${host} is a private or reserved address`, false);
  return u;
}

/** One request, no redirect following. Resolves with the status, headers and capped body. */
function requestOnce(
  u: URL,
  opts: Required<Omit<SafeFetchOptions, 'accept'>> & { accept: string },
  signal: AbortSignal,
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  const allowed = hostAllowed(u.hostname, opts.allowHosts);
  const client = u.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.request(
      u,
      {
        method: 'GET',
        signal,
        agent: false,
        lookup: checkedLookup(allowed) as never,
        headers: { 'user-agent': USER_AGENT, accept: opts.accept, 'accept-encoding': 'identity' },
      },
      (res) => {
        const status = res.statusCode ?? 0;
        const isRedirect = status >= 300 && status < 400;
        const encoding = (res.headers['content-encoding'] ?? 'identity').toLowerCase();
        if (!isRedirect && encoding !== 'identity') {
          reject(new FetchError(`${u.host} answered with content-encoding ${encoding}, which is not accepted`, false));
          return res.destroy();
        }
        const declared = Number(res.headers['content-length']);
        if (Number.isFinite(declared) && declared > opts.maxBytes) {
          reject(new FetchError(`${u.host}: response of ${declared} bytes is over the ${opts.maxBytes}-byte limit`, false));
          return res.destroy();
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > opts.maxBytes) {
            // Reject first: destroying the response emits 'aborted', which must not win.
            reject(new FetchError(`${u.host}: response is over the ${opts.maxBytes}-byte limit`, false));
            res.destroy();
          } else chunks.push(c);
        });
        res.on('end', () => resolve({ status, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
        res.on('aborted', () => reject(new FetchError(`${u.host}: connection closed mid-response`, true)));
      },
    );
    req.on('error', (e) => reject(e instanceof FetchError ? e : wrapNetworkError(e, u, signal)));
    req.end();
  });
}

function wrapNetworkError(e: Error, u: URL, signal: AbortSignal): FetchError {
  if (signal.aborted) return new FetchError(`${u.host}: no complete answer within the time limit`, true);
  return new FetchError(`${u.host}: ${(e as NodeJS.ErrnoException).code ?? e.message}`, true);
}

/**
 * GET with the safety rules above. 2xx resolves; 429 and 5xx are retriable FetchErrors; other
 * statuses and every refusal are not.
 */
export async function safeFetch(url: string, options: SafeFetchOptions = {}): Promise<SafeResponse> {
  const opts = { ...FETCH_DEFAULTS, allowHosts: [], accept: '*/*', ...options };
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), opts.timeoutMs);
  try {
    let current = checkUrl(url, opts.allowHosts);
    for (let hop = 0; ; hop++) {
      const res = await requestOnce(current, opts, controller.signal);
      if (res.status >= 300 && res.status < 400 && res.headers.location) {
        if (hop >= opts.maxRedirects) throw new FetchError(`${url}: more than ${opts.maxRedirects} redirects`, false);
        let next: string;
        try {
          next = new URL(res.headers.location, current).toString();
        } catch {
          throw new FetchError(`${current.host}: redirect to an invalid location`, false);
        }
        current = checkUrl(next, opts.allowHosts);
        continue;
      }
      if (res.status >= 200 && res.status < 300) {
        return { url: current.toString(), status: res.status, contentType: String(res.headers['content-type'] ?? ''), body: res.body };
      }
      const retriable = res.status === 429 || res.status >= 500;
      throw new FetchError(`${current.host}${current.pathname}: HTTP ${res.status}`, retriable, res.status);
    }
  } finally {
    clearTimeout(timer);
  }
}

/** Serialises requests to one host and spaces them (arXiv: one request every 3 s, one connection). */
export class RequestSpacer {
  private tail: Promise<unknown> = Promise.resolve();
  private last = 0;

  constructor(readonly intervalMs: number) {}

  run<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.tail.then(async () => {
      const wait = this.last + this.intervalMs - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      try {
        return await fn();
      } finally {
        this.last = Date.now();
      }
    });
    this.tail = next.catch(() => undefined);
    return next;
  }
}
