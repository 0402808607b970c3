import { createServer, IncomingMessage, Server } from 'node:http';
import { AddressInfo } from 'node:net';

export interface TwilioMessage {
  accountSid: string;
  authorization: string | undefined;
  to: string;
  from: string;
  body: string;
}

/** A local stand-in for Twilio's Messages API: records each request and answers 201 like Twilio. */
export class FakeTwilio {
  readonly messages: TwilioMessage[] = [];
  /** Answer the next message with Twilio's error for an unreachable number. */
  failNext = false;
  private readonly server: Server = createServer((request, response) => {
    void readBody(request).then((raw) => {
      const match = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages\.json$/.exec(request.url ?? '');
      if (request.method !== 'POST' || !match) {
        response.writeHead(404, { 'content-type': 'application/json' }).end('{"code":20404,"message":"Not found"}');
        return;
      }
      if (this.failNext) {
        this.failNext = false;
        response.writeHead(400, { 'content-type': 'application/json' }).end('{"code":21614,"message":"To number is not a valid mobile number"}');
        return;
      }
      const form = new URLSearchParams(raw);
      this.messages.push({
        accountSid: match[1]!,
        authorization: request.headers.authorization,
        to: form.get('To') ?? '',
        from: form.get('From') ?? '',
        body: form.get('Body') ?? '',
      });
      response.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ sid: `SM${this.messages.length}`, status: 'queued' }));
    });
  });

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let raw = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (raw += chunk));
    request.on('end', () => resolve(raw));
  });
}
