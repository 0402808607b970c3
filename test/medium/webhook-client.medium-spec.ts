import type { LookupAddress } from 'node:dns';
import { createServer, type Server } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebhookClient, type WebhookClientOptions } from '../../src/common/http/webhook-client';
import { DNS_TYPES, DnsServer } from '../helpers/dns-server';
import { WebhookReceiver } from '../helpers/webhook-receiver';

const OPEN: WebhookClientOptions = { allowPrivateNetworks: true, timeoutMs: 15_000, maxBodyBytes: 4096 };
const GUARDED: WebhookClientOptions = { ...OPEN, allowPrivateNetworks: false };
const BODY = JSON.stringify({ id: 'evt_1', object: 'event', type: 'ping' });
const HEADERS = { 'content-type': 'application/json', 'webhook-id': 'evt_1' };

/** Medium tier: real sockets against local servers; nothing leaves the machine. */
describe('WebhookClient (medium)', () => {
  let receiver: WebhookReceiver;
  let receiver6: WebhookReceiver;
  beforeAll(async () => {
    receiver = await WebhookReceiver.start('127.0.0.1');
    receiver6 = await WebhookReceiver.start('::1');
  });
  afterAll(async () => {
    await receiver.close();
    await receiver6.close();
  });
  afterEach(() => {
    receiver.requests.length = 0;
    receiver.connections = 0;
    receiver6.requests.length = 0;
    receiver6.connections = 0;
  });

  describe('answers', () => {
    const client = new WebhookClient(OPEN);

    it('posts the headers and the exact body, and records a 2xx with its body', async () => {
      receiver.answer({ status: 204 }, { status: 200, body: 'thanks' });
      const noContent = await client.send(receiver.url, HEADERS, BODY);
      const result = await client.send(`${receiver.url}?tenant=a`, HEADERS, BODY);

      expect(noContent).toMatchObject({ ok: true, status: 204, body: '', failure: null });
      expect(result).toEqual({ ok: true, status: 200, durationMs: expect.any(Number), body: 'thanks', retryAfterSeconds: null, failure: null });
      expect(receiver.requests[1]).toMatchObject({ method: 'POST', path: '/webhook?tenant=a', body: BODY });
      expect(receiver.requests[1]!.headers).toMatchObject({ 'webhook-id': 'evt_1', 'content-type': 'application/json', 'content-length': String(BODY.length) });
      expect(receiver.byWebhookId().get('evt_1')).toHaveLength(2);
    });

    it('keeps only the first 4 KiB of a large body, as UTF-8, without a cut character', async () => {
      receiver.answer({ status: 200, body: 'a'.repeat(4095) + 'é' + 'b'.repeat(100_000) }, { status: 200, body: 'x'.repeat(5000) });
      const cut = await client.send(receiver.url, HEADERS, BODY);
      const plain = await client.send(receiver.url, HEADERS, BODY);
      expect(cut.body).toBe('a'.repeat(4095));
      expect(plain.body).toBe('x'.repeat(4096));
    });

    it('reports a 500 as HTTP_STATUS with its body', async () => {
      receiver.answer({ status: 500, body: 'boom' });
      expect(await client.send(receiver.url, HEADERS, BODY)).toMatchObject({
        ok: false,
        status: 500,
        body: 'boom',
        retryAfterSeconds: null,
        failure: { kind: 'HTTP_STATUS', message: 'HTTP 500' },
      });
    });

    it('reads Retry-After in seconds and as an HTTP date', async () => {
      const now = new Date('2026-01-01T00:00:00Z');
      const clocked = new WebhookClient(OPEN, { now: () => now });
      receiver.answer(
        { status: 429, headers: { 'retry-after': '120' } },
        { status: 503, headers: { 'retry-after': 'Thu, 01 Jan 2026 00:05:00 GMT' } },
        { status: 429, headers: { 'retry-after': 'soon' } },
        { status: 503, headers: { 'retry-after': 'Wed, 31 Dec 2025 23:00:00 GMT' } },
      );
      const seconds = await clocked.send(receiver.url, HEADERS, BODY);
      const date = await clocked.send(receiver.url, HEADERS, BODY);
      const garbage = await clocked.send(receiver.url, HEADERS, BODY);
      expect(seconds).toMatchObject({ ok: false, status: 429, retryAfterSeconds: 120, failure: { kind: 'HTTP_STATUS' } });
      expect(date).toMatchObject({ status: 503, retryAfterSeconds: 300 });
      expect(garbage).toMatchObject({ status: 429, retryAfterSeconds: null });
      expect(await clocked.send(receiver.url, HEADERS, BODY)).toMatchObject({ status: 503, retryAfterSeconds: 0 });
      clocked.close();
    });

    it('does not follow a 302 to loopback: one request, kind REDIRECT', async () => {
      receiver.answer({ status: 302, headers: { location: `${receiver.baseUrl}/internal` } });
      const result = await client.send(receiver.url, HEADERS, BODY);
      expect(result).toMatchObject({ ok: false, status: 302, failure: { kind: 'REDIRECT' } });
      expect(receiver.requests.map((request) => request.path)).toEqual(['/webhook']);
    });

    it('ends an attempt nobody answers at timeoutMs, and destroys the socket', async () => {
      // The earlier tests' kept-alive connections are closed first, so the count is this attempt's.
      client.close();
      const quick = new WebhookClient({ ...OPEN, timeoutMs: 300 });
      receiver.answer({ status: 200, delayMs: Infinity });
      const started = Date.now();
      const result = await quick.send(receiver.url, HEADERS, BODY);
      expect(result).toMatchObject({ ok: false, status: null, failure: { kind: 'TIMEOUT' } });
      expect(result.durationMs).toBeGreaterThanOrEqual(290);
      expect(Date.now() - started).toBeLessThan(2000);
      await expect.poll(() => receiver.openConnections).toBe(0);
    });

    it('counts a name that never resolves against the same deadline', async () => {
      const resolveAll = () => new Promise<LookupAddress[]>(() => undefined);
      const result = await new WebhookClient({ ...OPEN, timeoutMs: 200 }, { resolveAll }).send('https://slow-dns.example/', HEADERS, BODY);
      expect(result).toMatchObject({ ok: false, status: null, failure: { kind: 'TIMEOUT' } });
    });

    it('times out a body that never ends, keeping the status it got', async () => {
      const trickle = createServer((socket) => socket.on('data', () => socket.write('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\npartial')));
      const port = await listen(trickle);
      const result = await new WebhookClient({ ...OPEN, timeoutMs: 300 }).send(`http://127.0.0.1:${port}/`, HEADERS, BODY);
      await close(trickle);
      expect(result).toMatchObject({ ok: false, status: 200, failure: { kind: 'TIMEOUT' } });
    });

    it('reports a refused connection as CONNECTION', async () => {
      const closed = createServer();
      const port = await listen(closed);
      await close(closed);
      expect(await client.send(`http://127.0.0.1:${port}/`, HEADERS, BODY)).toMatchObject({
        ok: false,
        status: null,
        failure: { kind: 'CONNECTION', message: '127.0.0.1: ECONNREFUSED' },
      });
    });

    it.each([
      ['not a url', 'not a URL'],
      ['ftp://example.com/x', 'ftp: is not http or https'],
      ['https://user:secret@example.com/x', 'a URL with credentials is refused'],
    ])('refuses %s as INVALID_URL, without echoing it', async (url, message) => {
      expect(await client.send(url, HEADERS, BODY)).toMatchObject({ ok: false, status: null, failure: { kind: 'INVALID_URL', message } });
    });
  });

  describe('SSRF: with allowPrivateNetworks false', () => {
    const client = new WebhookClient(GUARDED);

    it.each(['127.0.0.1', '127.1', '0x7f000001', '2130706433', 'localhost'])('refuses %s before connecting', async (host) => {
      const result = await client.send(`http://${host}:${receiver.port}/webhook?token=s3cret`, HEADERS, BODY);
      expect(result).toMatchObject({ ok: false, status: null, failure: { kind: 'ADDRESS_REFUSED', message: 'address not allowed' } });
      expect(result.failure!.detail).toMatch(/^(127\.0\.0\.1|localhost) resolves to (127\.0\.0\.1|::1), which is not a public address$/);
      expect(receiver.connections).toBe(0);
    });

    it.each(['[::1]', '[::ffff:127.0.0.1]'])('refuses %s before connecting', async (host) => {
      const result = await client.send(`http://${host}:${receiver6.port}/webhook`, HEADERS, BODY);
      expect(result).toMatchObject({ ok: false, failure: { kind: 'ADDRESS_REFUSED' } });
      expect(receiver6.connections + receiver.connections).toBe(0);
    });

    it.each(['10.0.0.1', '169.254.169.254', '100.64.0.1'])('refuses %s at once, with no connection attempt', async (host) => {
      const started = Date.now();
      const result = await new WebhookClient({ ...GUARDED, timeoutMs: 5000 }).send(`http://${host}/latest/meta-data/`, HEADERS, BODY);
      expect(result).toMatchObject({
        ok: false,
        failure: { kind: 'ADDRESS_REFUSED', message: 'address not allowed', detail: `${host} resolves to ${host}, which is not a public address` },
      });
      expect(Date.now() - started).toBeLessThan(1000);
    });

    it('refuses a host when any one of its addresses is private', async () => {
      const resolveAll = resolvesTo('8.8.8.8', '127.0.0.1');
      const result = await new WebhookClient(GUARDED, { resolveAll }).send(`http://mixed.example:${receiver.port}/`, HEADERS, BODY);
      expect(result.failure).toEqual({
        kind: 'ADDRESS_REFUSED',
        message: 'address not allowed',
        detail: 'mixed.example resolves to 127.0.0.1, which is not a public address',
      });
      expect(receiver.connections).toBe(0);
    });

    it('reports a name that does not resolve as CONNECTION', async () => {
      const resolveAll = (): Promise<LookupAddress[]> => Promise.reject(Object.assign(new Error('nope'), { code: 'ENOTFOUND' }));
      const result = await new WebhookClient(GUARDED, { resolveAll }).send('https://nowhere.example/', HEADERS, BODY);
      expect(result.failure).toEqual({ kind: 'CONNECTION', message: 'cannot resolve nowhere.example: ENOTFOUND' });
    });
  });

  describe('with allowPrivateNetworks true', () => {
    it('reaches a local server by IPv4, IPv6 and the name localhost', async () => {
      const client = new WebhookClient(OPEN);
      expect(await client.send(receiver.url, HEADERS, BODY)).toMatchObject({ ok: true, status: 200 });
      expect(await client.send(receiver6.url, HEADERS, BODY)).toMatchObject({ ok: true, status: 200 });
      expect(await client.send(`http://localhost:${receiver.port}/webhook`, HEADERS, BODY)).toMatchObject({ ok: true });
      expect(receiver.requests).toHaveLength(2);
      expect(receiver6.requests).toHaveLength(1);
    });

    it('resolves once and connects to the address it checked (a rebinding answer is never asked for)', async () => {
      const answers = ['127.0.0.1', '192.0.2.1'];
      const asked: string[] = [];
      const resolveAll = (hostname: string): Promise<LookupAddress[]> => {
        asked.push(hostname);
        return Promise.resolve([{ address: answers.shift() ?? '192.0.2.1', family: 4 }]);
      };
      const result = await new WebhookClient(OPEN, { resolveAll }).send(`http://hooks.example:${receiver.port}/webhook`, HEADERS, BODY);
      expect(result).toMatchObject({ ok: true, status: 200 });
      expect(asked).toEqual(['hooks.example']);
      expect(receiver.requests[0]!.headers.host).toBe(`hooks.example:${receiver.port}`);
    });

    it('keeps the hostname as the TLS servername and verifies the certificate', async () => {
      const servernames: (string | undefined)[] = [];
      // No certificate at all: the handshake fails after the server has read the client's SNI.
      const tls = createTlsServer({ SNICallback: (servername, callback) => (servernames.push(servername), callback(new Error('no certificate'))) });
      const port = await listen(tls);
      const resolveAll = resolvesTo('127.0.0.1');
      const result = await new WebhookClient(OPEN, { resolveAll }).send(`https://hooks.example:${port}/`, HEADERS, BODY);
      await close(tls);
      expect(servernames).toEqual(['hooks.example']);
      expect(result).toMatchObject({ ok: false, status: null, failure: { kind: 'CONNECTION' } });
    });
  });

  describe('kept-alive connections, per origin and checked address set', () => {
    it('reuses a connection for the same host and addresses, and opens another once the host resolves elsewhere', async () => {
      const any = await WebhookReceiver.start('0.0.0.0');
      const answers = [['127.0.0.1'], ['127.0.0.1'], ['127.0.0.2'], ['127.0.0.2']];
      const resolveAll = (): Promise<LookupAddress[]> => Promise.resolve(answers.shift()!.map((address) => ({ address, family: 4 })));
      const client = new WebhookClient(OPEN, { resolveAll });
      const url = `http://hooks.example:${any.port}/webhook`;
      try {
        expect(await client.send(url, HEADERS, BODY)).toMatchObject({ ok: true });
        expect(await client.send(url, HEADERS, BODY)).toMatchObject({ ok: true });
        expect(any.connections).toBe(1);
        // The same name now resolves to another address: never the connection made to the first.
        expect(await client.send(url, HEADERS, BODY)).toMatchObject({ ok: true });
        expect(any.connections).toBe(2);
        expect(await client.send(url, HEADERS, BODY)).toMatchObject({ ok: true });
        expect(any.connections).toBe(2);
        expect(any.socketAddresses()).toEqual(expect.arrayContaining([expect.objectContaining({ localAddress: '127.0.0.2' })]));
        expect(any.requests).toHaveLength(4);
      } finally {
        client.close();
        await any.close();
      }
    });

    it('a body cut at the limit closes its connection instead of returning it', async () => {
      const client = new WebhookClient(OPEN);
      receiver.answer({ status: 200, body: 'x'.repeat(100_000) });
      expect(await client.send(receiver.url, HEADERS, BODY)).toMatchObject({ ok: true, body: 'x'.repeat(4096) });
      expect(await client.send(receiver.url, HEADERS, BODY)).toMatchObject({ ok: true, body: 'ok' });
      expect(receiver.connections).toBe(2);
      client.close();
    });

    it('a kept-alive connection the server drops as it is reused: the attempt is made again on a new one', async () => {
      let connection = 0;
      const requests: number[] = [];
      // The first connection answers once and keeps alive, then closes on the next request unanswered.
      const server = createServer((socket) => {
        const n = ++connection;
        let seen = 0;
        socket.on('data', () => {
          requests.push(n);
          if (n === 1 && ++seen === 2) socket.destroy();
          else socket.write('HTTP/1.1 204 No Content\r\nconnection: keep-alive\r\n\r\n');
        });
      });
      const port = await listen(server);
      const client = new WebhookClient(OPEN);
      try {
        expect(await client.send(`http://127.0.0.1:${port}/`, HEADERS, BODY)).toMatchObject({ ok: true, status: 204 });
        expect(await client.send(`http://127.0.0.1:${port}/`, HEADERS, BODY)).toMatchObject({ ok: true, status: 204 });
        expect(requests).toEqual([1, 1, 2]);
      } finally {
        client.close();
        await close(server);
      }
    });
  });

  describe('DNS through a resolver with a deadline, not the thread pool', () => {
    let dns: DnsServer;
    let silent: DnsServer;
    beforeAll(async () => {
      [dns, silent] = await Promise.all([
        DnsServer.start({ records: { 'hooks.example': ['127.0.0.1'], 'vm.example': ['127.0.0.1'] } }),
        DnsServer.start({ silent: true }),
      ]);
    });
    afterAll(async () => {
      await Promise.all([dns.close(), silent.close()]);
    });

    it('resolves a name with A and AAAA queries to the configured server, and connects to the answer', async () => {
      const client = new WebhookClient({ ...OPEN, dnsServers: [dns.address] });
      const result = await client.send(`http://hooks.example:${receiver.port}/webhook`, HEADERS, BODY);
      expect(result).toMatchObject({ ok: true, status: 200 });
      expect(receiver.requests[0]!.headers.host).toBe(`hooks.example:${receiver.port}`);
      expect(dns.queries).toEqual(
        expect.arrayContaining([
          { name: 'hooks.example', type: DNS_TYPES.A },
          { name: 'hooks.example', type: DNS_TYPES.AAAA },
        ]),
      );
    });

    it('issue 19 (low 7): a name that resolves to loopback is refused as "address not allowed"; the answer is kept for the log only', async () => {
      const result = await new WebhookClient({ ...GUARDED, dnsServers: [dns.address] }).send(`http://vm.example:${receiver.port}/webhook`, HEADERS, BODY);
      expect(result.failure).toEqual({
        kind: 'ADDRESS_REFUSED',
        message: 'address not allowed',
        detail: 'vm.example resolves to 127.0.0.1, which is not a public address',
      });
      expect(JSON.stringify({ ...result, failure: { ...result.failure, detail: undefined } })).not.toContain('127.0.0.1');
      expect(receiver.connections).toBe(0);
    });

    it('a DNS server that never answers ends in a clean CONNECTION failure within about 4 s, well inside the attempt', async () => {
      const started = Date.now();
      const result = await new WebhookClient({ ...OPEN, dnsServers: [silent.address] }).send('https://hang.example/', HEADERS, BODY);
      const elapsed = Date.now() - started;
      expect(result).toMatchObject({ ok: false, status: null, failure: { kind: 'CONNECTION', message: 'cannot resolve hang.example: ETIMEOUT' } });
      // Bounded by the resolver's own tries, not by the attempt's 15 s.
      expect(elapsed).toBeGreaterThanOrEqual(2_000);
      expect(elapsed).toBeLessThan(8_000);
      expect(silent.queries.filter((query) => query.name === 'hang.example').length).toBeGreaterThanOrEqual(2);
    });

    it('localhost is loopback without asking any server (RFC 6761)', async () => {
      const client = new WebhookClient({ ...OPEN, dnsServers: [silent.address] });
      const asked = silent.queries.length;
      expect(await client.send(`http://localhost:${receiver.port}/webhook`, HEADERS, BODY)).toMatchObject({ ok: true, status: 200 });
      expect(await client.send(`http://api.localhost:${receiver.port}/webhook`, HEADERS, BODY)).toMatchObject({ ok: true, status: 200 });
      expect(silent.queries.length).toBe(asked);
    });
  });
});

/** A stand-in for DNS: every name resolves to these IPv4 addresses. */
function resolvesTo(...addresses: string[]) {
  return (): Promise<LookupAddress[]> => Promise.resolve(addresses.map((address) => ({ address, family: 4 })));
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}
