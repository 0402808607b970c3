import { createServer, Server, Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestApp } from '../helpers/test-app';

const APP = 'https://app.example.com';

/** A provider that is down, or that accepts connections and never answers, costs a 503 and OIDC_TIMEOUT at most. */
describe('OIDC provider unavailable', () => {
  let silent: Server;
  let closedPort: number;
  const held = new Set<Socket>();
  beforeAll(async () => {
    silent = createServer((socket) => void held.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    closedPort = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
  });
  afterAll(async () => {
    for (const socket of held) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
  });

  const provider = (name: string, issuer: string) => ({
    [`OIDC_${name.toUpperCase()}_ISSUER`]: issuer,
    [`OIDC_${name.toUpperCase()}_CLIENT_ID`]: 'gatehouse',
    [`OIDC_${name.toUpperCase()}_CLIENT_SECRET`]: 'secret',
  });
  const ctx = useTestApp(() => ({
    env: {
      OIDC_PROVIDERS: 'silent,down',
      OIDC_ALLOW_HTTP_ISSUERS: 'true',
      OIDC_TIMEOUT: '1',
      ALLOWED_LINK_ORIGINS: APP,
      ...provider('silent', `http://127.0.0.1:${(silent.address() as AddressInfo).port}`),
      ...provider('down', `http://127.0.0.1:${closedPort}`),
    },
  }));

  for (const name of ['silent', 'down']) {
    it(`answers 503 with Retry-After when the provider is ${name}, within the timeout`, async () => {
      const started = Date.now();
      const response = await ctx.t.app.inject({ method: 'GET', url: `/v1/auth/oidc/${name}/authorize?redirect=${encodeURIComponent(`${APP}/x`)}` });
      expect(Date.now() - started).toBeLessThan(3000);
      expect(response.statusCode, response.body).toBe(503);
      expect(response.json().code).toBe('SERVICE_UNAVAILABLE');
      expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
      expect(response.cookies).toEqual([]);
    });
  }
});
