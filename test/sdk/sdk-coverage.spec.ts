import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GatehouseClient } from '../../packages/sdk/src/index';

interface Operation {
  operationId: string;
  method: string;
  path: string;
  pattern: RegExp;
}

const spec = JSON.parse(readFileSync(join(__dirname, '../../openapi/openapi.json'), 'utf8')) as {
  paths: Record<string, Record<string, { operationId?: string }>>;
};
/** Literal paths before templated ones (as the router matches them): /v1/subscriptions/me is not /v1/subscriptions/{accountId}. */
const OPERATIONS: Operation[] = Object.entries(spec.paths)
  .sort(([a], [b]) => (a.match(/\{/g)?.length ?? 0) - (b.match(/\{/g)?.length ?? 0))
  .flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([, operation]) => operation.operationId)
      .map(([method, operation]) => ({
        operationId: operation.operationId!,
        method: method.toUpperCase(),
        path,
        pattern: new RegExp(`^${path.replace(/\{[^}]+\}/g, '[^/]+')}$`),
      })),
  );

/**
 * Operations no client calls: each is made by someone else. The list is checked against the spec
 * below, so a renamed or removed operation cannot leave a stale excuse here.
 */
const NOT_CALLED_BY_CLIENTS: Record<string, string> = {
  receiveStripeEvent: "Stripe's own deliveries, signed with the Stripe webhook secret",
  oidcCallback: 'the OIDC provider sends the browser back to it',
  authorizeOidc: 'a browser navigation (a redirect that sets a cookie): auth.oidcAuthorizeUrl() builds its URL, tested below',
};

/**
 * Every method of every namespace of a client (webhooks.endpoints and webhooks.deliveries
 * included), called with placeholder arguments against a fetch that records the request and
 * answers an empty page. What each method sends is then matched to the spec's operations by
 * method and path template, so a method that sends the wrong request covers nothing.
 */
async function operationsTheSdkSends(): Promise<Map<string, string>> {
  const sent: { method: string; path: string; caller: string }[] = [];
  let caller = '';
  const recordingFetch: typeof fetch = (input, init) => {
    sent.push({ method: init?.method ?? 'GET', path: new URL(input instanceof Request ? input.url : input).pathname, caller });
    return Promise.resolve(
      new Response(JSON.stringify({ items: [], nextCursor: null, keys: [] }), { status: 200, headers: { 'content-type': 'application/json' } }),
    );
  };
  const client = new GatehouseClient({ baseUrl: 'http://sdk.test', fetch: recordingFetch, retries: 0, accessToken: 'token' });
  const namespaces: [string, object][] = [];
  const collect = (prefix: string, value: unknown) => {
    if (typeof value !== 'object' || value === null) return;
    namespaces.push([prefix, value]);
    for (const [name, child] of Object.entries(value))
      if (name !== 't' && typeof child === 'object' && child !== null && !Array.isArray(child)) collect(`${prefix}.${name}`, child);
  };
  for (const [name, namespace] of Object.entries(client)) collect(name, namespace);

  for (const [prefix, namespace] of namespaces) {
    const prototype = Object.getPrototypeOf(namespace) as Record<string, unknown>;
    for (const name of Object.getOwnPropertyNames(prototype)) {
      const method = prototype[name];
      if (name === 'constructor' || typeof method !== 'function') continue;
      caller = `${prefix}.${name}`;
      const args = Array.from({ length: Math.max(method.length, 1) }, () => 'x');
      try {
        const result: unknown = (method as (...values: unknown[]) => unknown).apply(namespace, args);
        if (result && typeof (result as AsyncGenerator).next === 'function') await (result as AsyncGenerator).next();
        else await result;
      } catch {
        // Placeholder arguments make some answers unusable (a certificate to verify, say): the request was still recorded.
      }
    }
  }
  const covered = new Map<string, string>();
  for (const request of sent) {
    const operation = OPERATIONS.find((candidate) => candidate.method === request.method && candidate.pattern.test(request.path));
    if (operation && !covered.has(operation.operationId)) covered.set(operation.operationId, request.caller);
  }
  return covered;
}

describe('@gatehouse/sdk covers the spec', () => {
  it('every operation in openapi/openapi.json has an SDK method that sends it (or a stated reason no client calls it)', async () => {
    const covered = await operationsTheSdkSends();
    const missing = OPERATIONS.map((operation) => operation.operationId).filter((id) => !covered.has(id) && !(id in NOT_CALLED_BY_CLIENTS));
    expect(missing, `operations with no SDK method: ${missing.join(', ')}`).toEqual([]);
    // The excuses name real operations, and none that the SDK does call.
    for (const id of Object.keys(NOT_CALLED_BY_CLIENTS)) {
      expect(OPERATIONS.map((operation) => operation.operationId)).toContain(id);
      expect(covered.has(id), id).toBe(false);
    }
  });

  it('the integration endpoint is client.integration.getAll()', async () => {
    const covered = await operationsTheSdkSends();
    expect(covered.get('getAllProducts')).toBe('integration.getAll');
  });

  it('auth.oidcAuthorizeUrl() is the authorize operation of the spec, with the redirect as its query', () => {
    const client = new GatehouseClient({ baseUrl: 'http://sdk.test/' });
    const url = new URL(client.auth.oidcAuthorizeUrl('authentik', 'https://app.example.com/signed-in?x=1'));
    const authorize = OPERATIONS.find((operation) => operation.operationId === 'authorizeOidc')!;
    expect(authorize.method).toBe('GET');
    expect(url.pathname).toMatch(authorize.pattern);
    expect(url.pathname).toBe('/v1/auth/oidc/authentik/authorize');
    expect(url.searchParams.get('redirect')).toBe('https://app.example.com/signed-in?x=1');
  });
});
