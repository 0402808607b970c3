import { createServer, IncomingHttpHeaders, Server } from 'node:http';
import { AddressInfo, Socket } from 'node:net';

/**
 * What the proxy does with one request:
 * - `unavailable`: answers 503 problem+json with `Retry-After` (1 s unless told), never reaching the app;
 * - `problem`: answers this status and problem code (with `Retry-After` if told), never reaching the app;
 * - `reset`: destroys the connection at once, never reaching the app;
 * - `lose-answer`: forwards to the app, then destroys the connection instead of answering (the app did the work, the client never hears);
 * - `hang`: never answers (until close());
 * - `forward`: passes the request to the app and its answer back (also what happens once the plan runs out).
 */
export type ProxyAction =
  | { kind: 'unavailable'; retryAfter?: number }
  | { kind: 'problem'; status: number; code: string; retryAfter?: number }
  | { kind: 'reset' }
  | { kind: 'lose-answer' }
  | { kind: 'hang' }
  | { kind: 'forward' };

export interface ProxiedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** performance.now() when the request arrived, to measure the waits between attempts. */
  at: number;
  action: ProxyAction['kind'];
  /** The app's answer, when the request reached it. */
  upstream?: { status: number; replayed: boolean };
}

/** A local HTTP proxy in front of the app that fails requests as planned, recording each attempt. */
export class FailingProxy {
  readonly requests: ProxiedRequest[] = [];
  private readonly plan: ProxyAction[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly server: Server;

  private constructor(private readonly upstream: string) {
    this.server = createServer((request, response) => {
      const action = this.plan.shift() ?? { kind: 'forward' };
      const record: ProxiedRequest = {
        method: request.method ?? '',
        path: request.url ?? '',
        headers: request.headers,
        at: performance.now(),
        action: action.kind,
      };
      this.requests.push(record);
      void (async () => {
        const chunks: Buffer[] = [];
        for await (const chunk of request) chunks.push(chunk as Buffer);
        if (action.kind === 'hang') return;
        if (action.kind === 'reset') return void request.socket.destroy();
        if (action.kind === 'unavailable') {
          const body = JSON.stringify({ type: 'about:blank', title: 'Service Unavailable', status: 503 });
          return void response.writeHead(503, { 'content-type': 'application/problem+json', 'retry-after': String(action.retryAfter ?? 1) }).end(body);
        }
        if (action.kind === 'problem') {
          const body = JSON.stringify({ type: 'about:blank', title: action.code, status: action.status, code: action.code });
          const retryAfter: Record<string, string> = action.retryAfter === undefined ? {} : { 'retry-after': String(action.retryAfter) };
          return void response.writeHead(action.status, { 'content-type': 'application/problem+json', ...retryAfter }).end(body);
        }
        const answer = await this.forward(request.method ?? 'GET', request.url ?? '/', request.headers, Buffer.concat(chunks));
        record.upstream = { status: answer.status, replayed: answer.headers['idempotent-replayed'] === 'true' };
        if (action.kind === 'lose-answer') return void request.socket.destroy();
        response.writeHead(answer.status, answer.headers).end(answer.body);
      })();
    });
    this.server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  static async start(upstream: string): Promise<FailingProxy> {
    const proxy = new FailingProxy(upstream.replace(/\/+$/, ''));
    await new Promise<void>((resolve) => proxy.server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** The next requests meet these, in order; afterwards they are forwarded. */
  failNext(...actions: ProxyAction[]): this {
    this.plan.push(...actions);
    return this;
  }

  /** Forgets recorded requests and any unused plan. */
  reset(): void {
    this.requests.length = 0;
    this.plan.length = 0;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async forward(method: string, path: string, headers: IncomingHttpHeaders, body: Buffer) {
    const forwarded = new Headers();
    for (const [name, value] of Object.entries(headers)) {
      if (value === undefined || ['host', 'connection', 'content-length', 'keep-alive', 'transfer-encoding'].includes(name)) continue;
      forwarded.set(name, Array.isArray(value) ? value.join(', ') : value);
    }
    const answer = await fetch(`${this.upstream}${path}`, { method, headers: forwarded, body: body.length > 0 ? body : undefined });
    const answerHeaders: Record<string, string> = {};
    answer.headers.forEach((value, name) => {
      if (!['connection', 'content-length', 'keep-alive', 'transfer-encoding', 'content-encoding'].includes(name)) answerHeaders[name] = value;
    });
    return { status: answer.status, headers: answerHeaders, body: Buffer.from(await answer.arrayBuffer()) };
  }
}
