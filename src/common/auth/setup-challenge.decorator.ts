import { applyDecorators, createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import { ApiOperation } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { SECURITY } from '../openapi/openapi';
import type { Principal } from './principal';

export const ACCEPTS_SETUP_CHALLENGE = 'gatehouse:acceptsSetupChallenge';

/**
 * For the two enrolment routes only. An ADMIN under REQUIRE_2FA_FOR_ADMINS has no session until it
 * has 2FA, so these routes also admit a request that carries no credential at all but a
 * `challenge` in its body; the route's service must then verify that challenge (a TOTP_SETUP one)
 * itself. A request with a credential is authenticated as on any route, and one with neither is 401.
 * The spec lists "no credential" as a fourth way in.
 */
export const AcceptsSetupChallenge = () =>
  applyDecorators(
    SetMetadata(ACCEPTS_SETUP_CHALLENGE, true),
    ApiOperation({ security: [{ [SECURITY.bearer]: [] }, { [SECURITY.apiKey]: [] }, { [SECURITY.cookie]: [] }, {}], summary: undefined }),
  );

export function carriesChallenge(request: FastifyRequest): boolean {
  const body = request.body as { challenge?: unknown } | undefined;
  return typeof body?.challenge === 'string';
}

/** The caller on an @AcceptsSetupChallenge route: undefined when it came with a challenge instead of a credential. */
export const OptionalPrincipal = createParamDecorator(
  (_data: unknown, context: ExecutionContext): Principal | undefined => context.switchToHttp().getRequest<FastifyRequest>().principal,
);
