import argon2 from 'argon2';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Pool } from 'pg';
import { DB_POOL } from '../../src/db/database';
import { users } from '../../src/db/schema';
import { ARGON2_OPTIONS } from '../../src/modules/auth/password.service';
import { Db, orm, unique } from './db';

export const TEST_PASSWORD = 'Tr0ub4dor&3-horse-staple';

export function userInput(overrides: Record<string, unknown> = {}) {
  return {
    email: `user-${unique()}@example.com`,
    password: TEST_PASSWORD,
    firstName: 'Ada',
    lastName: 'Lovelace',
    language: 'en',
    locale: 'en-GB',
    timezone: 'Europe/London',
    ...overrides,
  };
}

// One argon2 hash of the shared test password, computed once per file: each hash takes ~30 ms.
let testPasswordHash: Promise<string> | undefined;
const hashOf = (password: string) =>
  password === TEST_PASSWORD ? (testPasswordHash ??= argon2.hash(TEST_PASSWORD, ARGON2_OPTIONS)) : argon2.hash(password, ARGON2_OPTIONS);

export type UserRow = typeof users.$inferSelect;

/**
 * A users row, ACTIVE by default (as if the activation link had been followed), with `password`
 * hashed as the app hashes it, so the user can log in through the API:
 * `await insertUser(db, { role: 'ADMIN' })`.
 */
export async function insertUser(db: Db, overrides: Partial<typeof users.$inferInsert> & { password?: string } = {}): Promise<UserRow & { password: string }> {
  const { password = TEST_PASSWORD, ...columns } = overrides;
  const [row] = await orm(db)
    .insert(users)
    .values({
      email: `user-${unique()}@example.com`,
      passwordHash: await hashOf(password),
      firstName: 'Ada',
      lastName: 'Lovelace',
      locale: 'en-GB',
      timezone: 'Europe/London',
      status: 'ACTIVE',
      ...columns,
    })
    .returning();
  return { ...row!, password };
}

const json = { 'content-type': 'application/json' };

/** Factories throw rather than assert, so benchmarks can use them outside vitest. */
function expectStatus(response: { statusCode: number; body: string }, status: number): void {
  if (response.statusCode !== status) throw new Error(`Expected ${status}, got ${response.statusCode}: ${response.body}`);
}

export async function registerUser(app: NestFastifyApplication, overrides: Record<string, unknown> = {}) {
  const input = userInput(overrides);
  const response = await app.inject({ method: 'POST', url: '/v1/auth/register', payload: JSON.stringify(input), headers: json });
  expectStatus(response, 201);
  return { input, user: response.json().user as { id: string; email: string } };
}

export interface LoggedIn {
  accessToken: string;
  refreshToken: string;
  cookies: Record<string, string>;
  body: Record<string, any>;
}

export async function login(app: NestFastifyApplication, email: string, password = TEST_PASSWORD): Promise<LoggedIn> {
  const response = await app.inject({ method: 'POST', url: '/v1/auth/login', payload: JSON.stringify({ email, password }), headers: json });
  expectStatus(response, 200);
  const body = response.json();
  const cookies = Object.fromEntries(response.cookies.map((cookie) => [cookie.name, cookie.value]));
  return { accessToken: body.accessToken.token, refreshToken: body.refreshToken.token, cookies, body };
}

/** A registered user that has not followed its activation link yet (INACTIVE), logged in. */
export async function registerInactiveAndLogin(app: NestFastifyApplication, overrides: Record<string, unknown> = {}) {
  const registered = await registerUser(app, overrides);
  return { ...registered, ...(await login(app, registered.input.email)) };
}

/**
 * A registered user whose account is ACTIVE (set in the database, as if the mailed link had been
 * followed), logged in. Until then only identity and activation routes answer; tests of that
 * gate and of activation use registerInactiveAndLogin.
 */
export async function registerAndLogin(app: NestFastifyApplication, overrides: Record<string, unknown> = {}) {
  const registered = await registerUser(app, overrides);
  await app.get<Pool>(DB_POOL).query("UPDATE users SET status = 'ACTIVE' WHERE id = $1 AND status = 'INACTIVE'", [registered.user.id]);
  return { ...registered, ...(await login(app, registered.input.email)) };
}

/**
 * An ACTIVE ADMIN inserted directly (there is no API to become one), then logged in through the
 * API; the same shape as registerAndLogin's.
 */
export async function registerAdmin(app: NestFastifyApplication, db: Db, overrides: Parameters<typeof insertUser>[1] = {}) {
  const admin = await insertUser(db, { role: 'ADMIN', ...overrides });
  const input = {
    email: admin.email,
    password: admin.password,
    firstName: admin.firstName,
    lastName: admin.lastName,
    language: admin.language,
    locale: admin.locale,
    timezone: admin.timezone,
  };
  return { input, user: { id: admin.id, email: admin.email }, ...(await login(app, admin.email, admin.password)) };
}
