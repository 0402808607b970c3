import { beforeAll, describe, expect, it } from 'vitest';
import { listRoutes, RouteInfo } from '../../src/common/auth/routes';
import { routesServedBy } from '../../src/common/routing/route-executor';
import { insertApiKey } from '../factories/api-keys';
import { insertUser } from '../factories/users';
import { useTestApp } from '../helpers/test-app';

/** The routes meant to be open. A new @Public() must be added here, on purpose. */
const PUBLIC_ROUTES = [
  // The development mailbox: mounted only outside production (issue 22).
  'GET /dev/mail',
  'GET /dev/mail.json',
  // The default pages mailed links open (issue 22).
  'GET /activate',
  'GET /reset-password',
  'GET /health/live',
  'GET /health/ready',
  'GET /problems/:slug',
  'GET /probs/:slug',
  'POST /auth/login',
  'POST /v1/auth/login',
  'POST /v1/auth/refresh',
  'POST /v1/auth/2fa/verify',
  'POST /v1/auth/register',
  // A link in a mail: the token is the credential (issue 22).
  'POST /v1/accounts/activate-account',
  'GET /v1/auth/oidc/:provider/authorize',
  'GET /v1/auth/oidc/:provider/callback',
  'POST /v1/users/password-reset',
  'POST /v1/users/password-reset-request',
  'POST /v1/licenses/validate',
  'POST /v1/licenses/activate',
  'POST /v1/licenses/deactivate',
  'GET /v1/licenses/jwks',
  'POST /v1/webhooks/stripe',
  'GET /v1/subscriptions/plans',
];

describe('deny by default: the route walk', () => {
  const ctx = useTestApp();
  let routes: RouteInfo[];
  beforeAll(() => {
    routes = listRoutes(ctx.t.app);
  });

  it('finds the routes, and exactly the intended ones are public', () => {
    expect(routes.length).toBeGreaterThan(PUBLIC_ROUTES.length);
    const open = routes.filter((route) => route.plan.public).map((route) => `${route.method} ${route.path}`);
    expect(open.sort()).toEqual([...PUBLIC_ROUTES].sort());
  });

  it("serves every controller route (and its HEAD) with the handler RouteExecutor compiled with its plan, never Nest's own", () => {
    const served = routesServedBy(ctx.t.app.getHttpAdapter().getInstance());
    const expected = routes.flatMap((route) => (route.method === 'GET' ? ['GET', 'HEAD'] : [route.method]).map((method) => `${method} ${route.path}`));
    expect([...served].sort()).toEqual(expected.sort());
  });

  it('answers every other route with 401 when no credential is sent', async () => {
    for (const route of routes.filter((candidate) => !candidate.plan.public)) {
      const url = route.path.replace(/:(\w+)/g, (_, name: string) => (name === 'id' ? 'usr_01jh8x2v3kf6qz9w0c4m5t7r8y' : 'x'));
      const response = await ctx.t.app.inject({
        method: route.method as 'GET',
        url,
        ...(route.method === 'GET' ? {} : { payload: '{}', headers: { 'content-type': 'application/json' } }),
      });
      expect(response.statusCode, `${route.method} ${route.path}`).toBe(401);
      expect(response.json().code).toBe('UNAUTHORIZED');
    }
  });

  it('lets a request with a setup challenge and no credential through to the two enrolment routes only', async () => {
    const reached: string[] = [];
    for (const route of routes.filter((candidate) => !candidate.plan.public && candidate.method !== 'GET')) {
      const url = route.path.replace(/:(\w+)/g, (_, name: string) => (name === 'id' ? 'usr_01jh8x2v3kf6qz9w0c4m5t7r8y' : 'x'));
      const response = await ctx.t.app.inject({
        method: route.method as 'POST',
        url,
        payload: JSON.stringify({ challenge: 'tfc_01jh8x2v3kf6qz9w0c4m5t7r8y.forged' }),
        headers: { 'content-type': 'application/json' },
      });
      expect(response.statusCode, `${route.method} ${route.path}`).toBeGreaterThanOrEqual(400);
      if (response.json().code !== 'UNAUTHORIZED') reached.push(`${route.method} ${route.path}`);
    }
    // Reached, and refused there (confirm lacks its code; setup's service refuses the forged challenge).
    expect(reached.sort()).toEqual(['POST /v1/auth/2fa/totp/confirm', 'POST /v1/auth/2fa/totp/setup']);
  });

  it('issue 19: a verify key of an ADMIN reaches the access check only; every other route refuses it naming its scope', async () => {
    const owner = await insertUser(ctx.db, { role: 'ADMIN' });
    const { key } = await insertApiKey(ctx.db, { ownerId: owner.id, scope: 'verify' });
    const reached: string[] = [];
    for (const route of routes.filter((candidate) => !candidate.plan.public)) {
      const url = route.path.replace(/:(\w+)/g, (_, name: string) => (name === 'id' ? 'usr_01jh8x2v3kf6qz9w0c4m5t7r8y' : 'x'));
      const response = await ctx.t.app.inject({
        method: route.method as 'GET',
        url,
        headers: { authorization: `Bearer ${key}`, ...(route.method === 'GET' ? {} : { 'content-type': 'application/json' }) },
        ...(route.method === 'GET' ? {} : { payload: '{}' }),
      });
      const problem = response.json();
      if (problem.code === 'INSUFFICIENT_SCOPE') {
        // getAll speaks the integration format (403 sent as 401), without the extension members.
        expect(problem.status, `${route.method} ${route.path}`).toBe(403);
        if (!route.path.startsWith('/api/integration')) expect(problem.scope, `${route.method} ${route.path}`).toBe('verify');
      } else reached.push(`${route.method} ${route.path}`);
    }
    expect(reached).toEqual(['POST /v1/access/verify']);
    expect(routes.filter((route) => route.plan.keyScopes.includes('verify') && !route.plan.public).map((route) => `${route.method} ${route.path}`)).toEqual([
      'POST /v1/access/verify',
    ]);
  });

  it('rate-limits every route but the health probes and the Stripe webhook', () => {
    expect(
      routes
        .filter((route) => route.plan.skipRateLimit)
        .map((route) => route.path)
        .sort(),
    ).toEqual(['/health/live', '/health/ready', '/v1/webhooks/stripe']);
  });
});
