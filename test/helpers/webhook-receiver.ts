import { createServer, IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo, Socket } from 'node:net';

export interface ReceivedRequest {
  method: string;
  /** Path and query, as sent. */
  path: string;
  headers: IncomingHttpHeaders;
  /** The body as received, for signature checks over the exact bytes. */
  body: string;
  receivedAt: Date;
}

export interface ReceiverAnswer {
  status: number;
  /** Retry-After, Location, …; content-type defaults to text/plain. */
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Waits this long before answering; Infinity never answers (the socket stays open until close()). */
  delayMs?: number;
}

const DEFAULT_ANSWER: ReceiverAnswer = { status: 200, body: 'ok' };

/**
 * A real local HTTP endpoint for outbound webhook tests: records every request and answers from a
 * queue of programmed answers (then 200 "ok"). `connections` counts TCP connections, so a test can
 * show that a refused attempt never reached it at all.
 */
export class WebhookReceiver {
  readonly requests: ReceivedRequest[] = [];
  connections = 0;
  /** Requests received and not yet answered, and the most there ever were at once. */
  inProgress = 0;
  maxInProgress = 0;
  private readonly answers: ReceiverAnswer[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly sockets = new Set<Socket>();
  private readonly server: Server = createServer((request, response) => void this.handle(request, response));
  private origin = '';

  private constructor() {
    this.server.on('connection', (socket: Socket) => {
      this.connections++;
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  /** Listens on a free port of `host` (127.0.0.1 unless told, e.g. '::1'). */
  static async start(host = '127.0.0.1'): Promise<WebhookReceiver> {
    const receiver = new WebhookReceiver();
    await new Promise<void>((resolve, reject) => {
      receiver.server.once('error', reject);
      receiver.server.listen(0, host, resolve);
    });
    const { port } = receiver.server.address() as AddressInfo;
    receiver.origin = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
    return receiver;
  }

  /** Where to deliver: a path under the receiver's origin. */
  get url(): string {
    return `${this.origin}/webhook`;
  }

  /** Scheme, host and port; for a test that needs another path or host form. */
  get baseUrl(): string {
    return this.origin;
  }

  /** The open connections' addresses, as this side sees them (which of its addresses was reached). */
  socketAddresses(): { localAddress: string | undefined; remoteAddress: string | undefined }[] {
    return [...this.sockets].map((socket) => ({ localAddress: socket.localAddress, remoteAddress: socket.remoteAddress }));
  }

  /** Connections still open: an attempt that gave up must have closed its socket. */
  get openConnections(): number {
    return this.sockets.size;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** Answers the next requests with these, in order; afterwards 200 "ok" again. */
  answer(...answers: ReceiverAnswer[]): this {
    this.answers.push(...answers);
    return this;
  }

  /** The requests grouped by their `webhook-id` header, in arrival order (no header: ''). */
  byWebhookId(): Map<string, ReceivedRequest[]> {
    const groups = new Map<string, ReceivedRequest[]>();
    for (const request of this.requests) {
      const id = String(request.headers['webhook-id'] ?? '');
      groups.set(id, [...(groups.get(id) ?? []), request]);
    }
    return groups;
  }

  async close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    this.requests.push({
      method: request.method ?? '',
      path: request.url ?? '',
      headers: request.headers,
      body: Buffer.concat(chunks).toString('utf8'),
      receivedAt: new Date(),
    });
    const answer = this.answers.shift() ?? DEFAULT_ANSWER;
    if (answer.delayMs === Infinity) return;
    this.maxInProgress = Math.max(this.maxInProgress, ++this.inProgress);
    try {
      if (answer.delayMs) await this.sleep(answer.delayMs);
      if (response.destroyed) return;
      response.writeHead(answer.status, { 'content-type': 'text/plain', ...answer.headers }).end(answer.body ?? '');
    } finally {
      this.inProgress--;
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, ms);
      this.timers.add(timer);
    });
  }
}
