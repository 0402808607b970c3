import { randomBytes } from 'node:crypto';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Pool } from 'pg';
import { expect } from 'vitest';
import { DB_POOL } from '../../src/db/database';

export const TEST_PASSWORD = 'Tr0ub4dor&3-horse-staple';

export function userInput(overrides: Record<string, unknown> = {}) {
  return {
    email: `user-${randomBytes(5).toString('hex')}@example.com`,
    password: TEST_PASSWORD,
    firstName: 'Ada',
    lastName: 'Lovelace',
    language: 'en',
    locale: 'en-GB',
    timezone: 'Europe/London',
    ...overrides,
  };
}

const json = { 'content-type': 'application/json' };

export async function registerUser(app: NestFastifyApplication, overrides: Record<string, unknown> = {}) {
  const input = userInput(overrides);
  const response = await app.inject({ method: 'POST', url: '/v1/auth/register', payload: JSON.stringify(input), headers: json });
  expect(response.statusCode, response.body).toBe(201);
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
  expect(response.statusCode, response.body).toBe(200);
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

/** A registered user made ACTIVE ADMIN directly in the database (there is no API to self-promote), then logged in. */
export async function registerAdmin(app: NestFastifyApplication, db: { query: (sql: string, params: unknown[]) => Promise<unknown> }) {
  const registered = await registerUser(app);
  await db.query("UPDATE users SET role = 'ADMIN', status = 'ACTIVE' WHERE id = $1", [registered.user.id]);
  return { ...registered, ...(await login(app, registered.input.email)) };
}
