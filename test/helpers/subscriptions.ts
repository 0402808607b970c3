import { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Client } from 'pg';
import { vi } from 'vitest';
import { Clock } from '../../src/common/clock';
import { insertAccount } from '../factories/accounts';
import { registerAndLogin } from '../factories/users';
import { bearerCaller } from './http';

/** A signed-in ACTIVE user with an ACTIVE account. */
export async function subscriber(app: NestFastifyApplication, db: Client) {
  const session = await registerAndLogin(app);
  return { ...session, accountId: (await insertAccount(db, { userId: session.user.id, status: 'ACTIVE', emailVerified: true })).id };
}

export const updateSubscription = (app: NestFastifyApplication, token: string, body: unknown) =>
  bearerCaller(app)('POST', '/v1/accounts/update-subscription', token, body);

/** Moves the injected clock to `at` until vi.restoreAllMocks(). */
export const setClock = (app: NestFastifyApplication, at: Date) => vi.spyOn(app.get(Clock), 'now').mockReturnValue(at);

/** The history rows and `subscription.changed` outbox rows of one account, oldest first. */
export async function changesOf(db: Client, accountId: string) {
  const history = await db.query('SELECT * FROM subscription_changes WHERE account_id = $1 ORDER BY id', [accountId]);
  const outbox = await db.query("SELECT payload FROM outbox_messages WHERE type = 'subscription.changed' AND payload->>'accountId' = $1 ORDER BY id", [
    accountId,
  ]);
  return { history: history.rows, events: outbox.rows.map((row: { payload: Record<string, unknown> }) => row.payload) };
}
