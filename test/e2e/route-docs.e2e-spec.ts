import { Controller, Get, Post } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { Authenticated, Public } from '../../src/common/auth/access.decorators';
import { planRoutes } from '../../src/common/auth/route-plans';
import { controllerHandlers } from '../../src/common/http/controller-handlers';
import { listRoutes, RouteInfo } from '../../src/common/auth/routes';
import { useTestApp } from '../helpers/test-app';

interface Response {
  'x-problem-codes'?: string[];
  headers?: Record<string, unknown>;
}
interface Operation {
  security?: unknown[];
  responses: Record<string, Response>;
  'x-metered'?: unknown;
  'x-problem-format'?: string;
}

const CREDENTIAL_FAILURES = ['UNAUTHORIZED', 'ACCESS_TOKEN_INVALID', 'ACCESS_TOKEN_EXPIRED', 'SESSION_REVOKED', 'INVALID_API_KEY', 'API_KEY_EXPIRED'];
const PLAN_REFUSALS = ['SUBSCRIPTION_REQUIRED', 'PAST_DUE', 'ENDPOINT_NOT_IN_PLAN', 'GEO_RESTRICTED'];
const RATE_LIMIT_HEADERS = ['Retry-After', 'X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset'];
const QUOTA_HEADERS = ['X-Quota-Limit', 'X-Quota-Remaining', 'X-Quota-Reset'];
const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

const codes = (response: Response | undefined) => response?.['x-problem-codes'] ?? [];
const headers = (response: Response | undefined) => Object.keys(response?.headers ?? {}).sort();

/** The handlers of one controller, as the route guard discovers them in an app that has only it. */
const handlersOf = (controller: object) =>
  controllerHandlers({ getControllers: () => [{ metatype: controller }] } as unknown as DiscoveryService, new MetadataScanner());

describe('route docs: each route says who may call it, and its spec says what the route guard does', () => {
  const ctx = useTestApp();
  let routes: RouteInfo[];
  let operations: Map<RouteInfo, Operation>;

  beforeAll(async () => {
    routes = listRoutes(ctx.t.app);
    const spec = (await ctx.t.app.inject({ method: 'GET', url: '/openapi.json' })).json<{ paths: Record<string, Record<string, Operation>> }>();
    // Routes left out of the spec on purpose (the development mailbox) have no docs to compare;
    // openapi.e2e-spec.ts checks that every other route is documented.
    operations = new Map(
      routes.flatMap((route) => {
        const operation = spec.paths[route.path.replace(/:(\w+)/g, '{$1}')]?.[route.method.toLowerCase()];
        return operation ? [[route, operation] as const] : [];
      }),
    );
  });

  it('documents, for every operation, exactly the security and guard answers of its compiled plan', () => {
    expect(operations.size).toBeGreaterThan(50);
    for (const [route, operation] of operations) {
      const { plan } = route;
      const label = `${route.method} ${route.path}`;
      const { responses } = operation;
      // Security: open, the three credentials (the document's default), or those plus "none" on enrolment.
      if (plan.public) expect(operation.security, label).toEqual([]);
      else if (plan.acceptsSetupChallenge) expect(operation.security, label).toEqual([{ bearer: [] }, { apiKey: [] }, { cookie: [] }, {}]);
      else expect(operation.security, label).toBeUndefined();

      // 401: every credential failure on a protected route; none of them on an open one.
      if (plan.public)
        expect(
          codes(responses['401']).filter((code) => CREDENTIAL_FAILURES.includes(code)),
          label,
        ).toEqual([]);
      else expect(codes(responses['401']), label).toEqual(expect.arrayContaining(CREDENTIAL_FAILURES));

      // 403: what this route's plan can refuse with, and not what it cannot.
      // The integration format answers a 403 as 401 (integration-responses.ts): there both are one pool.
      const integration = operation['x-problem-format'] === 'integration';
      const forbidden = integration ? [...codes(responses['401']), ...codes(responses['403'])] : codes(responses['403']);
      const expect403 = (code: string, present: boolean) => expect(forbidden.includes(code), `${label} 403 ${code}`).toBe(present);
      // An open route may check the cookie's origin itself (refresh does), so only protected ones are held to this.
      if (!plan.public) expect403('CSRF_REJECTED', WRITES.has(route.method));
      expect403('ACCOUNT_NOT_ACTIVE', !plan.public && !plan.allowInactive);
      expect403('INSUFFICIENT_SCOPE', !plan.public);
      if (!plan.public) expect403('ACCOUNT_SUSPENDED', true);
      if (plan.roles) expect403('FORBIDDEN', true);
      for (const code of PLAN_REFUSALS) expect403(code, plan.metered !== null);

      // 429 and 503: on every route the limiter counts, with their headers; quota too where the call is counted.
      const counted = !plan.public && !plan.unmetered;
      if (plan.skipRateLimit) {
        expect(responses['429'], label).toBeUndefined();
      } else {
        expect(codes(responses['429']), label).toContain('RATE_LIMITED');
        expect(codes(responses['429']).includes('QUOTA_EXCEEDED'), `${label} QUOTA_EXCEEDED`).toBe(counted);
        expect(headers(responses['429']), label).toEqual([...RATE_LIMIT_HEADERS, ...(counted ? QUOTA_HEADERS : [])].sort());
        expect(codes(responses['503']), label).toContain('SERVICE_UNAVAILABLE');
        expect(headers(responses['503']), label).toEqual(['Retry-After']);
      }

      // A paid endpoint names its limit and sends its quota headers on success.
      expect(operation['x-metered'] ?? null, label).toEqual(plan.metered);
      for (const [status, response] of Object.entries(responses)) {
        if (Number(status) >= 300) continue;
        const quota = headers(response).filter((name) => name.startsWith('X-Quota-'));
        expect(quota, `${label} ${status}`).toEqual(plan.metered ? [...QUOTA_HEADERS].sort() : []);
      }
    }
  });

  it('refuses to boot a route that says neither @Public() nor @Authenticated()', () => {
    @Controller('forgotten')
    class ForgottenController {
      @Get()
      forgotten() {
        return {};
      }
    }
    expect(() => planRoutes(handlersOf(ForgottenController))).toThrow(/ForgottenController\.forgotten has neither @Public\(\) nor @Authenticated\(\)/);
  });

  it('refuses both on one route, and a method decorator placed below the HTTP method', () => {
    expect(() => {
      class Both {
        @Public()
        @Authenticated()
        @Get()
        both() {}
      }
      return Both;
    }).toThrow(/exactly one of @Public\(\) or @Authenticated\(\)/);
    expect(() => {
      class Below {
        @Post()
        @Authenticated()
        below() {}
      }
      return Below;
    }).toThrow(/go above the route's @Get\/@Post/);
  });

  it('applies a controller-level decorator to each route without its own, which keeps its own', () => {
    @Authenticated({ roles: ['ADMIN'] })
    @Controller('class-level')
    class ClassLevelController {
      @Post()
      write() {}

      @Public()
      @Get()
      open() {}
    }
    const plans = Object.fromEntries(planRoutes(handlersOf(ClassLevelController)).map((route) => [route.name, route.plan]));
    expect(plans.write).toMatchObject({ public: false, roles: ['ADMIN'], csrf: true, keyScopes: ['admin'] });
    expect(plans.open).toMatchObject({ public: true, rateLimit: 'public' });
  });
});
