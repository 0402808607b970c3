import { describe, expect, it } from 'vitest';
import { ProbeModule } from '../fixtures/probe.module';
import { insertApiKey } from '../factories/api-keys';
import { useTestApp } from '../helpers/test-app';

/** Every line the app writes, as parsed JSON, with the raw text kept for "never contains" checks. */
function captureLogs() {
  const lines: string[] = [];
  return {
    lines,
    destination: { write: (line: string) => void lines.push(line) },
    entries: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

describe('the access log (issue 21, done means 4)', () => {
  const logs = captureLogs();
  const ctx = useTestApp({ extraModules: [ProbeModule], env: { LOG_LEVEL: 'info' }, logDestination: logs.destination });

  it('writes one compact line for a 200, a 4xx and a 5xx, with ids but no header values', async () => {
    const { key, id: keyId, ownerId } = await insertApiKey(ctx.db);
    const headers = {
      authorization: `Bearer ${key}`,
      cookie: 'gatehouse_auth=cookie-value-never-logged',
      'x-api-key': 'x-api-key-value-never-logged',
      'user-agent': 'agent-value-never-logged',
      'accept-language': 'tr',
    };
    const calls = [
      { url: '/v1/products?search=query-value-never-logged', status: 200, requestId: 'access-200', route: '/v1/products' },
      { url: '/v1/products/prd_01jh8x2v3kf6qz9w0c4m5t7r8y', status: 404, requestId: 'access-404', route: '/v1/products/:id' },
      { url: '/test-probe/protected-crash', status: 500, requestId: 'access-500', route: '/test-probe/protected-crash' },
    ];
    for (const call of calls) {
      const response = await ctx.t.app.inject({ method: 'GET', url: call.url, headers: { ...headers, 'x-request-id': call.requestId } });
      expect(response.statusCode, call.url).toBe(call.status);
    }
    const unmatched = await ctx.t.app.inject({
      method: 'GET',
      url: '/no-such-route?token=query-value-never-logged',
      headers: { ...headers, 'x-request-id': 'access-unmatched' },
    });
    expect(unmatched.statusCode).toBe(404);

    const access = logs.entries().filter((entry) => entry.msg === 'request completed');
    for (const call of calls) {
      const lines = access.filter((entry) => entry.requestId === call.requestId);
      expect(lines, call.url).toHaveLength(1);
      const { time, pid, hostname, ms, ...line } = lines[0]!;
      expect({ time, pid, hostname }).toEqual({ time: expect.any(Number), pid: process.pid, hostname: expect.any(String) });
      expect(ms).toEqual(expect.any(Number));
      expect(line).toEqual({
        level: call.status >= 500 ? 50 : call.status >= 400 ? 40 : 30,
        method: 'GET',
        route: call.route,
        status: call.status,
        requestId: call.requestId,
        principalId: ownerId,
        keyId,
        msg: 'request completed',
      });
    }
    // No route matched: the path stands in for the pattern, without its query; no one was identified.
    const unmatchedLines = access.filter((entry) => entry.requestId === 'access-unmatched');
    expect(unmatchedLines).toEqual([expect.objectContaining({ method: 'GET', path: '/no-such-route', status: 404 })]);
    expect(Object.keys(unmatchedLines[0]!)).not.toEqual(expect.arrayContaining(['route', 'principalId', 'keyId']));

    // Neither the access lines nor the 500's error line hold a header value, the key or a query string.
    const everything = logs.lines.join('');
    expect(everything).toContain('"requestId":"access-500"');
    for (const value of [key, 'never-logged', 'agent-value', '"headers"', '"tr"']) expect(everything).not.toContain(value);
  });

  it('skips the liveness probe, which would drown out real traffic', async () => {
    expect((await ctx.t.app.inject({ method: 'GET', url: '/health/live', headers: { 'x-request-id': 'access-live' } })).statusCode).toBe(200);
    expect(logs.lines.join('')).not.toContain('access-live');
  });
});
