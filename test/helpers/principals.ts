import { expect } from 'vitest';
import type { ApiKeyPrincipal, UserPrincipal } from '../../src/common/auth/principal';
import { DomainError } from '../../src/common/errors/domain-error';
import { ERROR_CATALOG } from '../../src/common/errors/error-catalog';

type UserLike = { id: string; role: UserPrincipal['role']; status: UserPrincipal['status'] };

/** Who a service call acts as, for the medium tests: the principal the guard would have built. */
export function userPrincipal(user: UserLike, sessionId = 'rtk_medium_session'): UserPrincipal {
  return { kind: 'user', userId: user.id, role: user.role, status: user.status, language: 'en', sessionId, locale: 'en-GB', timezone: 'Europe/London' };
}

/** A key's principal: its owner's role, capped by the key's scope as the authenticator caps it. */
export function apiKeyPrincipal(
  owner: UserLike,
  key: { id: string; scope: ApiKeyPrincipal['scope']; environment: ApiKeyPrincipal['environment'] },
): ApiKeyPrincipal {
  const role = owner.role === 'ADMIN' && (key.scope === 'admin' || key.scope === 'verify') ? 'ADMIN' : 'USER';
  return { kind: 'apiKey', userId: owner.id, role, status: owner.status, language: 'en', apiKeyId: key.id, scope: key.scope, environment: key.environment };
}

/** Awaits a DomainError and returns it with the HTTP status it would be answered with. */
export async function domainError(promise: Promise<unknown>): Promise<DomainError & { status: number }> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(DomainError);
  const domain = error as DomainError;
  return Object.assign(domain, { status: ERROR_CATALOG[domain.code].status });
}
