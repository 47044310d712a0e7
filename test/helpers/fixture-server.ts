import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';

export type Route = (req: IncomingMessage, res: ServerResponse, url: URL) => void;

/**
 * A local HTTP server standing in for Hugging Face and arXiv: routes by path, and keeps every
 * request (with its arrival time) so tests can check pagination and request spacing.
 */
export class FixtureServer {
  readonly requests: { path: string; query: URLSearchParams; at: number }[] = [];
  readonly routes = new Map<string, Route>();
  private open = 0;
  private maxOpen = 0;

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(): Promise<FixtureServer> {
    let self: FixtureServer | undefined;
    const server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://fixture');
      self!.requests.push({ path: url.pathname, query: url.searchParams, at: Date.now() });
      self!.open++;
      self!.maxOpen = Math.max(self!.maxOpen, self!.open);
      res.on('close', () => self!.open--);
      const route = self!.routes.get(url.pathname);
      if (!route) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
        return;
      }
      route(req, res, url);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    self = new FixtureServer(server, (server.address() as AddressInfo).port);
    return self;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Most requests ever in flight at once (arXiv: must stay 1). */
  get maxConcurrent(): number {
    return this.maxOpen;
  }

  route(path: string, fn: Route): this {
    this.routes.set(path, fn);
    return this;
  }

  requestsTo(path: string) {
    return this.requests.filter((r) => r.path === path);
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

export const send = (res: ServerResponse, status: number, type: string, body: string | Buffer) => {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) }).end(body);
};
