import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import IORedis from 'ioredis';
import { SMTPServer, SMTPServerDataStream, SMTPServerSession } from 'smtp-server';

export const ROOT = resolve(__dirname, '..', '..');
export const WORKER_JS = join(ROOT, 'dist', 'src', 'worker.js');

/** Fault tests run the compiled worker (`npm test` builds dist first); say so clearly when it is missing. */
export function requireBuiltWorker(): void {
  if (!existsSync(WORKER_JS)) {
    throw new Error(`${WORKER_JS} does not exist: build first (npm run build, or run the suite with npm test, which builds)`);
  }
}

/** A free TCP port on loopback (bound then released; good enough for tests). */
export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.on('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Every child a test started, so afterAll can kill whatever a failed test left behind. */
const children = new Set<ChildProcess>();

export interface Child {
  proc: ChildProcess;
  pid: number;
  /** Resolves with the exit code (null when killed by a signal) and the signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The last few KB of stderr+stdout, for failure messages. */
  output(): string;
  kill(signal?: NodeJS.Signals): void;
}

function track(proc: ChildProcess, what: string): Child {
  children.add(proc);
  let out = '';
  const keep = (d: Buffer) => {
    out = (out + d.toString()).slice(-8000);
  };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => {
    proc.on('exit', (code, signal) => {
      children.delete(proc);
      res({ code, signal });
    });
    proc.on('error', (e) => {
      children.delete(proc);
      keep(Buffer.from(`${what}: ${e.message}`));
      res({ code: -1, signal: null });
    });
  });
  return {
    proc,
    pid: proc.pid!,
    exited,
    output: () => out,
    kill: (signal: NodeJS.Signals = 'SIGKILL') => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
    },
  };
}

/** Kills (SIGKILL) every child still running. Safe to call twice. */
export async function killAllChildren(): Promise<void> {
  const running = [...children];
  for (const p of running) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  await Promise.all(running.map((p) => new Promise<void>((r) => (p.exitCode !== null || p.signalCode !== null ? r() : p.once('exit', () => r())))));
}

/** The worker process (`node dist/src/worker.js`), configured only through its environment. */
export function spawnWorker(env: Record<string, string>): Child {
  requireBuiltWorker();
  const proc = spawn(process.execPath, [WORKER_JS], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      NODE_ENV: 'test',
      PUBLIC_URL: 'https://papers.example.org',
      APP_SECRET: 'test-secret-'.padEnd(40, 'x'),
      LOG_LEVEL: 'error',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return track(proc, 'worker');
}

/**
 * A private redis-server on its own port (never the shared 6379), persisting to an append-only
 * file in a temporary directory so jobs survive a restart.
 */
export class PrivateRedis {
  private child?: Child;
  readonly dir = mkdtempSync(join(tmpdir(), 'pb-redis-'));

  private constructor(readonly port: number) {}

  static async start(): Promise<PrivateRedis> {
    const r = new PrivateRedis(await freePort());
    await r.launch();
    return r;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  private async launch(): Promise<void> {
    const proc = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--maxmemory-policy', 'noeviction', '--save', '', '--appendonly', 'yes', '--appendfsync', 'always', '--dir', this.dir],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.child = track(proc, 'redis-server');
    const deadline = Date.now() + 10_000;
    for (;;) {
      const c = new IORedis({ port: this.port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      try {
        await c.connect();
        if ((await c.ping()) === 'PONG') {
          // An AOF is loaded before the server answers PING with PONG (LOADING otherwise).
          return;
        }
      } catch {
        // not up yet
      } finally {
        c.disconnect();
      }
      if (Date.now() > deadline) throw new Error(`redis-server on ${this.port} did not start:\n${this.child.output()}`);
      await sleep(50);
    }
  }

  /** SIGTERM (Redis flushes its AOF), wait for the exit, then start again on the same port and dir. */
  async restart(downMs = 0): Promise<void> {
    await this.stop();
    if (downMs) await sleep(downMs);
    await this.launch();
  }

  async stop(): Promise<void> {
    if (!this.child) return;
    this.child.kill('SIGTERM');
    const t = setTimeout(() => this.child?.kill('SIGKILL'), 10_000);
    await this.child.exited;
    clearTimeout(t);
    this.child = undefined;
  }

  async destroy(): Promise<void> {
    if (this.child) {
      this.child.kill('SIGKILL');
      await this.child.exited;
      this.child = undefined;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * A real SMTP server in the test process that (unlike SmtpCapture) can be slowed down per
 * message, listen on a chosen port (to come back after an outage on the same port), and be
 * stopped hard. A message counts as received when the server decides to answer 250 (after the
 * delay), even if the client has died meanwhile (the sender cannot know it was accepted); if the
 * server is stopped while it holds the answer, the message is not accepted.
 */
export class SinkSmtp {
  /** Recipient address of every accepted message, in order. */
  readonly accepted: string[] = [];
  /** Messages whose DATA arrived and whose answer is being held (the per-message delay). */
  inflight = 0;
  /** Called when a message's DATA has arrived, before the delay; `n` counts from 0. */
  onData: (n: number) => void = () => undefined;
  private received = 0;
  private stopped = false;

  private constructor(
    private readonly server: SMTPServer,
    readonly port: number,
    private readonly delayMs: number,
  ) {}

  static async start(opts: { port?: number; delayMs?: number } = {}): Promise<SinkSmtp> {
    let self: SinkSmtp | undefined;
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      closeTimeout: 1,
      onData(stream: SMTPServerDataStream, session: SMTPServerSession, callback: (err?: Error | null) => void) {
        stream.on('data', () => undefined);
        stream.on('end', () => {
          const s = self!;
          const n = s.received++;
          s.inflight++;
          s.onData(n);
          const answer = () => {
            s.inflight--;
            if (s.stopped) return callback(Object.assign(new Error('shutting down'), { responseCode: 421 }));
            s.accepted.push(...session.envelope.rcptTo.map((r) => r.address));
            callback();
          };
          if (s.delayMs > 0) setTimeout(answer, s.delayMs);
          else answer();
        });
      },
    });
    await new Promise<void>((res, rej) => {
      server.once('error', rej);
      server.listen(opts.port ?? 0, '127.0.0.1', () => res());
    });
    server.on('error', () => undefined);
    self = new SinkSmtp(server, (server.server.address() as { port: number }).port, opts.delayMs ?? 0);
    return self;
  }

  get url(): string {
    return `smtp://127.0.0.1:${this.port}`;
  }

  count(address: string): number {
    return this.accepted.filter((a) => a === address).length;
  }

  /** Stops listening and cuts every open connection (messages whose answer was held are not accepted). */
  stop(): Promise<void> {
    this.stopped = true;
    const connections = (this.server as unknown as { connections: Set<{ _socket?: Socket }> }).connections;
    for (const c of connections) c._socket?.destroy();
    return new Promise((res) => this.server.close(() => res()));
  }
}

/** The promise's value, or undefined if it takes longer than `ms` (the timer never outlives the race). */
export async function within<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
