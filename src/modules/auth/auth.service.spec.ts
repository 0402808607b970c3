import { describe, expect, it } from 'vitest';
import { DomainError } from '../../common/errors/domain-error';
import { AppConfig } from '../../config/config';
import { UserRow, UsersService } from '../users/users.service';
import { AuthService } from './auth.service';
import { AttemptCount, LoginFailuresRepository } from './login-failures.repository';
import { PasswordService } from './password.service';
import { TwoFactorService } from './two-factor.service';
import { TokenPair, TokensService } from './tokens.service';

/** Strict fakes: each implements only what AuthService.login may call, and records the calls. */
function setup(options: { failuresSoFar: number; emailFailuresSoFar?: number; user?: Partial<UserRow>; passwordOk?: boolean; hashingFull?: boolean }) {
  const calls: string[] = [];
  const now = new Date('2026-11-22T12:00:00Z');
  const user = options.user
    ? {
        id: 'usr_1',
        email: 'a@example.com',
        passwordHash: 'hash',
        status: 'ACTIVE',
        role: 'USER',
        firstName: 'A',
        middleName: null,
        lastName: 'B',
        language: 'en',
        locale: 'en',
        timezone: 'UTC',
        emailVerifiedAt: null,
        createdAt: now,
        updatedAt: now,
        ...options.user,
      }
    : undefined;
  const users = {
    findByEmail: (email: string) => (calls.push(`findByEmail:${email}`), Promise.resolve(user)),
    currentView: (row: UserRow) => ({ id: row.id }),
  } as unknown as UsersService;
  const passwords = {
    admit: () => {
      calls.push('admit');
      if (options.hashingFull) throw new DomainError('RATE_LIMITED', { params: { retryAfter: 1 } });
      return { release: () => undefined };
    },
    verify: (hash: string | undefined) => (calls.push(`verify:${hash ?? 'dummy'}`), Promise.resolve(options.passwordOk ?? false)),
  } as unknown as PasswordService;
  const pair: TokenPair = { accessToken: { token: 'a', expiresAt: now }, refreshToken: { token: 'r', expiresAt: now } };
  const tokens = { issue: () => (calls.push('issue'), Promise.resolve(pair)) } as unknown as TokensService;
  const failures = {
    countAttempt: (keys: string[]): Promise<AttemptCount[]> => {
      calls.push(`count:${keys.join(',')}`);
      const failures = (key: string) => (key.startsWith('email:') ? (options.emailFailuresSoFar ?? options.failuresSoFar) : options.failuresSoFar) + 1;
      return Promise.resolve(keys.map((key) => ({ key, failures: failures(key), windowEndsAt: new Date(now.getTime() + 600_000) })));
    },
    clear: (keys: string[]) => (calls.push(`clear:${keys.length}`), Promise.resolve()),
  } as unknown as LoginFailuresRepository;
  // No second factor is due in these tests: the two-factor step is tested end to end (two-factor.e2e-spec.ts).
  const twoFactor = { requiredFor: () => Promise.resolve(undefined) } as unknown as TwoFactorService;
  const clock = { now: () => now, nowMs: () => now.getTime() };
  const config = { auth: { loginFailureLimit: { count: 10, windowSeconds: 900 }, loginSlowdownMaxMs: 0 } } as AppConfig;
  return { service: new AuthService(users, passwords, tokens, twoFactor, failures, clock, config), calls };
}

describe('AuthService.login', () => {
  it('counts the attempt under email and email+IP before touching the password', async () => {
    const { service, calls } = setup({ failuresSoFar: 0, user: {} });
    await expect(service.login({ email: 'A@Example.com', password: 'x' }, '10.0.0.1')).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS' });
    expect(calls).toEqual(['admit', 'count:email:a@example.com,email-ip:a@example.com|ip:10.0.0.1', 'findByEmail:A@Example.com', 'verify:hash']);
  });

  it('issue 20 (scenario 7): past the hashing cap answers RATE_LIMITED first: nothing counted, looked up or hashed', async () => {
    const { service, calls } = setup({ failuresSoFar: 0, user: {}, hashingFull: true });
    await expect(service.login({ email: 'a@example.com', password: 'x' }, '10.0.0.1')).rejects.toMatchObject({
      code: 'RATE_LIMITED',
      options: { params: { retryAfter: 1 } },
    });
    expect(calls).toEqual(['admit']);
  });

  it('past the limit answers RATE_LIMITED with Retry-After and never hashes', async () => {
    const { service, calls } = setup({ failuresSoFar: 10, user: {} });
    const error = await service.login({ email: 'a@example.com', password: 'x' }, '10.0.0.1').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DomainError);
    expect(error).toMatchObject({ code: 'RATE_LIMITED', options: { params: { retryAfter: 600 } } });
    expect(calls.some((call) => call.startsWith('verify') || call.startsWith('findByEmail'))).toBe(false);
  });

  it('#3: past the limit for the email from other IPs, still checks the password: no lockout of the owner', async () => {
    const { service, calls } = setup({ failuresSoFar: 0, emailFailuresSoFar: 50, user: {}, passwordOk: true });
    await service.login({ email: 'a@example.com', password: 'x' }, '10.0.0.9');
    expect(calls).toContain('verify:hash');
    expect(calls.at(-1)).toBe('issue');
  });

  it('verifies an unknown email against the dummy hash', async () => {
    const { service, calls } = setup({ failuresSoFar: 0 });
    await expect(service.login({ email: 'x@example.com', password: 'x' }, '10.0.0.1')).rejects.toMatchObject({ code: 'INVALID_CREDENTIALS' });
    expect(calls).toContain('verify:dummy');
  });

  it('clears the counters and issues tokens on success, but not for a suspended user', async () => {
    const ok = setup({ failuresSoFar: 3, user: {}, passwordOk: true });
    await ok.service.login({ email: 'a@example.com', password: 'x' }, '10.0.0.1');
    expect(ok.calls.slice(-2)).toEqual(['clear:2', 'issue']);

    const suspended = setup({ failuresSoFar: 0, user: { status: 'SUSPENDED' }, passwordOk: true });
    await expect(suspended.service.login({ email: 'a@example.com', password: 'x' }, '10.0.0.1')).rejects.toMatchObject({ code: 'ACCOUNT_SUSPENDED' });
    expect(suspended.calls).not.toContain('issue');
  });
});
