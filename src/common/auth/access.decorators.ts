import { ApiExtension, ApiOperation } from '@nestjs/swagger';
import { METERED_EXTENSION } from '../metering/quota-headers';
import { SECURITY } from '../openapi/security-schemes';
import { AuthenticatedOptions, methodOf, planOf, PublicOptions, ROUTE_ACCESS, RouteAccess } from './route-access';
import { documentGuardResponses } from './route-docs';

/**
 * Marks a route (or every route of a controller) as open: no credential, counted per IP under
 * `public` or the named limit. Routes are protected unless they say this; the route guard's plan
 * and the route's docs (`security: []`, its 429 and 503) both come from it.
 */
export const Public = (options: PublicOptions = {}) => accessDecorator({ kind: 'public', ...options });

/**
 * Marks a route (or every route of a controller) as needing a credential: an API key, an access
 * token as bearer, or the login cookie. Sets what the route guard runs (roles, key scopes, inactive
 * accounts, metering, the limit) and documents what it can answer: security, 401, 403, 429, 503
 * and the quota headers.
 */
export const Authenticated = (options: AuthenticatedOptions = {}) => accessDecorator({ kind: 'authenticated', ...options });

/**
 * On a method it must sit above @Get/@Post/...: decorators apply bottom-up, and the docs depend on
 * the method (a cookie write can be refused as CSRF). On a class it applies to each route that has
 * no access of its own (class decorators run after every method decorator).
 */
function accessDecorator(access: RouteAccess): ClassDecorator & MethodDecorator {
  return (target: object, key?: string | symbol, descriptor?: PropertyDescriptor) => {
    if (descriptor?.value) {
      applyTo(descriptor.value as object, String(key), access);
      return;
    }
    const prototype = (target as { prototype: Record<string, unknown> }).prototype;
    for (const name of Object.getOwnPropertyNames(prototype)) {
      const handler = prototype[name];
      if (name === 'constructor' || typeof handler !== 'function' || methodOf(handler) === undefined) continue;
      if (!Reflect.hasOwnMetadata(ROUTE_ACCESS, handler)) applyTo(handler, name, access);
    }
  };
}

function applyTo(handler: object, name: string, access: RouteAccess): void {
  if (Reflect.hasOwnMetadata(ROUTE_ACCESS, handler)) throw new Error(`${name}: a route takes exactly one of @Public() or @Authenticated()`);
  const method = methodOf(handler);
  if (method === undefined) throw new Error(`${name}: @Public() and @Authenticated() go above the route's @Get/@Post/...`);
  Reflect.defineMetadata(ROUTE_ACCESS, access, handler);
  const plan = planOf(access, method);
  const descriptor = { value: handler };
  // ApiOperation merges into the operation's other options, in either order, once its default
  // empty `summary` is left out (an explicit undefined is dropped, an omitted key is not).
  if (plan.public) ApiOperation({ security: [], summary: undefined })({}, name, descriptor);
  // The enrolment routes also take "no credential" (a setup challenge in the body): a fourth way in.
  if (plan.acceptsSetupChallenge) {
    ApiOperation({ security: [{ [SECURITY.bearer]: [] }, { [SECURITY.apiKey]: [] }, { [SECURITY.cookie]: [] }, {}], summary: undefined })({}, name, descriptor);
  }
  if (plan.metered) ApiExtension(METERED_EXTENSION, plan.metered)({}, name, descriptor);
  documentGuardResponses(handler, plan);
}
