import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import Stripe from 'stripe';
import { afterEach, describe, expect, it } from 'vitest';
import { DomainError } from '../../common/errors/domain-error';
import { StripeDeadline } from './stripe-deadline';

/** A real Stripe client against a local server that answers however `handle` says. */
async function stripeAt(handle: (request: IncomingMessage, response: ServerResponse) => void): Promise<{ stripe: Stripe; server: Server }> {
  const server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, stripe: new Stripe('sk_test_deadline', { host: '127.0.0.1', port, protocol: 'http', maxNetworkRetries: 0 }) };
}

describe('StripeDeadline', () => {
  let server: Server | undefined;
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
  });

  it('holds against a Stripe that trickles its answer (which resets the socket timeout with every byte)', async () => {
    const trickling = await stripeAt((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.write('{"id":"cus_slow",');
      const trickle = () => {
        response.write(' ');
        drip = setTimeout(trickle, 50);
      };
      let drip = setTimeout(trickle, 50);
      response.on('close', () => clearTimeout(drip));
    });
    server = trickling.server;
    const deadline = new StripeDeadline(400, 1);
    const started = performance.now();
    const error = await deadline.write((options) => trickling.stripe.customers.create({}, options)).catch((caught: unknown) => caught);
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).code).toBe('SERVICE_UNAVAILABLE');
    expect((error as DomainError).options.params).toEqual({ retryAfter: 60 });
  });

  it('shares one budget between calls: a second call after the first spent it is refused without reaching Stripe', async () => {
    let requests = 0;
    const slow = await stripeAt((_request, response) => {
      requests++;
      setTimeout(() => response.writeHead(200, { 'content-type': 'application/json' }).end('{"id":"cus_1","object":"customer"}'), 250);
    });
    server = slow.server;
    const deadline = new StripeDeadline(300, 1);
    expect((await deadline.read((options) => slow.stripe.customers.retrieve('cus_1', {}, options))).id).toBe('cus_1');
    const second = await deadline.read((options) => slow.stripe.customers.retrieve('cus_1', {}, options)).catch((caught: unknown) => caught);
    expect((second as DomainError).code).toBe('SERVICE_UNAVAILABLE');
    expect(requests).toBe(2);
    const third = await deadline.read((options) => slow.stripe.customers.retrieve('cus_1', {}, options)).catch((caught: unknown) => caught);
    expect((third as DomainError).code).toBe('SERVICE_UNAVAILABLE');
    expect(requests).toBe(2);
  });

  it('a write without a key of its own gets one, the same on each attempt; a read carries none', async () => {
    const keys: Array<string | undefined> = [];
    const flaky = await stripeAt((request, response) => {
      keys.push(request.headers['idempotency-key'] as string | undefined);
      const status = keys.length % 2 === 1 ? 503 : 200;
      response
        .writeHead(status, { 'content-type': 'application/json' })
        .end(status === 200 ? '{"id":"cus_2","object":"customer"}' : '{"error":{"type":"api_error"}}');
    });
    server = flaky.server;
    const deadline = new StripeDeadline(2_000, 1);
    await deadline.write((options) => flaky.stripe.customers.create({}, options));
    expect(keys).toHaveLength(2);
    expect(keys[0]).toMatch(/^gatehouse-[0-9a-f-]{36}$/);
    expect(keys[1]).toBe(keys[0]);
    await deadline.read((options) => flaky.stripe.customers.retrieve('cus_2', {}, options));
    expect(keys.slice(2)).toEqual([undefined, undefined]);
  });
});
