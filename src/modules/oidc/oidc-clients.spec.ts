import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Logger } from '@nestjs/common';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { Clock } from '../../common/clock';
import { DomainError } from '../../common/errors/domain-error';
import type { AppConfig } from '../../config/config';
import { OidcClients } from './oidc-clients';

class FakeClock extends Clock {
  at = 1_000_000;
  override nowMs(): number {
    return this.at;
  }
}

const HOUR = 60 * 60 * 1000;

/** An issuer that serves its discovery document, or a 500 while `down`; it counts the discovery requests. */
describe('OidcClients: discovery', () => {
  let server: Server;
  let issuer: string;
  let discoveries = 0;
  let down = false;
  let respond: Promise<void> = Promise.resolve();
  beforeAll(async () => {
    server = createServer((request, response) => {
      if (request.url !== '/.well-known/openid-configuration') return void response.writeHead(404).end();
      discoveries++;
      void respond.then(() => {
        if (down) return void response.writeHead(500).end();
        response.writeHead(200, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            issuer,
            authorization_endpoint: `${issuer}/authorize`,
            token_endpoint: `${issuer}/token`,
            jwks_uri: `${issuer}/jwks`,
            response_types_supported: ['code'],
          }),
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  let clock: FakeClock;
  let clients: OidcClients;
  const authorize = () => clients.authorizationUrl(clients.provider('test'));
  beforeEach(() => {
    discoveries = 0;
    down = false;
    respond = Promise.resolve();
    clock = new FakeClock();
    const config = {
      publicBaseUrl: 'https://gatehouse.example.com',
      oidc: {
        providers: [{ name: 'test', issuer, clientId: 'gatehouse', clientSecret: 'secret', scopes: 'openid email' }],
        allowHttpIssuers: true,
        timeoutSeconds: 5,
      },
    } as AppConfig;
    clients = new OidcClients(clock, config);
    vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  });

  it('discovers once for concurrent sign-ins, keeps the metadata for an hour by the Clock, then discovers again', async () => {
    let answer!: () => void;
    respond = new Promise((resolve) => (answer = resolve));
    const first = Promise.all([authorize(), authorize()]);
    await vi.waitFor(() => expect(discoveries).toBe(1));
    answer();
    const urls = await first;
    expect(urls.map(({ url }) => new URL(url).origin + new URL(url).pathname)).toEqual([`${issuer}/authorize`, `${issuer}/authorize`]);
    expect(discoveries).toBe(1);

    clock.at += HOUR - 1;
    await authorize();
    expect(discoveries).toBe(1);
    clock.at += 1;
    await authorize();
    expect(discoveries).toBe(2);
  });

  it('keeps no failed discovery: the next sign-in asks the provider again', async () => {
    down = true;
    const failed = await authorize().catch((error: unknown) => error);
    expect(failed).toBeInstanceOf(DomainError);
    expect((failed as DomainError).code).toBe('SERVICE_UNAVAILABLE');
    expect(discoveries).toBe(1);

    down = false;
    await expect(authorize()).resolves.toMatchObject({ url: expect.stringContaining(`${issuer}/authorize?`) });
    expect(discoveries).toBe(2);
    await authorize();
    expect(discoveries).toBe(2);
  });

  it('a failed rediscovery after the hour is not kept either, and nothing stale is used meanwhile', async () => {
    await authorize();
    clock.at += HOUR;
    down = true;
    await expect(authorize()).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
    down = false;
    await authorize();
    await authorize();
    expect(discoveries).toBe(3);
  });
});
