import { randomBytes } from 'node:crypto';
import { createWriteStream, promises as fs } from 'node:fs';
import { isIP } from 'node:net';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';

/**
 * Development mail sink: an SMTP server on loopback that accepts everything (no auth, no TLS) and
 * stores each message as `<outboxDir>/<id>.eml`. Ids sort by arrival time. Files are written under
 * a dot-prefixed temporary name and renamed into place, so readers never see a partial message.
 * It logs nothing: message content, addresses and tokens in links stay on disk only.
 */

export const OUTBOX_MAX_MESSAGE_BYTES = 10 * 1024 * 1024;

export interface OutboxSinkOptions {
  /** Loopback address to bind; default 127.0.0.1. Anything else is refused. */
  host?: string;
  /** 0 picks a free port (see `port` after start). Default 0. */
  port?: number;
  outboxDir: string;
  /** Largest accepted message; bigger ones get 552 and are not stored. Default 10 MB. */
  maxMessageBytes?: number;
}

let sequence = 0;

/** `20250314T101530123Z-000042-a1b2c3d4`: UTC time to the millisecond, a counter, randomness. */
export function newMessageId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:.]/g, ''); // 20250314T101530123Z
  sequence = (sequence + 1) % 1_000_000;
  return `${stamp}-${String(sequence).padStart(6, '0')}-${randomBytes(4).toString('hex')}`;
}

function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  const h = host.replace(/^::ffff:/i, '');
  if (isIP(h) === 4) return h.startsWith('127.');
  return h === '::1';
}

export class OutboxSink {
  private constructor(
    private readonly server: SMTPServer,
    readonly port: number,
    readonly host: string,
    readonly outboxDir: string,
  ) {}

  static async start(opts: OutboxSinkOptions): Promise<OutboxSink> {
    const host = opts.host ?? '127.0.0.1';
    if (!isLoopback(host)) throw new Error(`OutboxSink binds to loopback only; refusing host "${host}"`);
    const outboxDir = path.resolve(opts.outboxDir);
    await fs.mkdir(outboxDir, { recursive: true });

    const server = new SMTPServer({
      secure: false,
      authOptional: true,
      disabledCommands: ['AUTH', 'STARTTLS'],
      size: opts.maxMessageBytes ?? OUTBOX_MAX_MESSAGE_BYTES,
      rejectOversized: true,
      logger: false,
      disableReverseLookup: true,
      banner: 'Paperboy dev outbox',
      socketTimeout: 30_000,
      closeTimeout: 2_000,
      onConnect(session: SMTPServerSession, callback: (err?: Error | null) => void) {
        // Belt and braces: the listener is on loopback anyway.
        if (!isLoopback(session.remoteAddress)) return callback(new Error('Only local clients may deliver here'));
        callback();
      },
      onData(stream: SMTPServerDataStream, _session: SMTPServerSession, callback: (err?: Error | null, message?: string) => void) {
        store(outboxDir, stream).then(
          (id) => callback(null, `Stored as ${id}`),
          (err: unknown) => callback(err instanceof Error ? err : new Error(String(err))),
        );
      },
    });
    // smtp-server emits 'error' for socket-level problems; without a listener they would crash the process.
    server.on('error', () => undefined);

    const port = await new Promise<number>((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      server.server.once('error', onError);
      server.listen(opts.port ?? 0, host, () => {
        server.server.off('error', onError);
        const address = server.server.address();
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('OutboxSink: could not determine the listening port'));
      });
    });
    return new OutboxSink(server, port, host, outboxDir);
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

async function store(outboxDir: string, stream: SMTPServerDataStream): Promise<string> {
  const id = newMessageId();
  const tmp = path.join(outboxDir, `.${id}.eml.part`);
  const final = path.join(outboxDir, `${id}.eml`);
  try {
    await pipeline(stream, createWriteStream(tmp, { flags: 'wx', mode: 0o600 }));
    if (stream.sizeExceeded) throw Object.assign(new Error('Message exceeds fixed maximum message size'), { responseCode: 552 });
    await fs.rename(tmp, final);
    return id;
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
}
