import { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Client } from 'pg';
import { vi } from 'vitest';
import { Clock } from '../../src/common/clock';
import type { PresetCode } from '../../src/modules/subscriptions/plans.repository';
import { PlansRepository } from '../../src/modules/subscriptions/plans.repository';
import { SubscriptionChangesService } from '../../src/modules/subscriptions/subscription-changes.service';
import { TransactionRunner } from '../../src/db/transaction';
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

/**
 * Puts a user on a preset through the app's own change path (an ACTIVE account is made if it has
 * none): for tests and benchmarks of a paid endpoint that are about something else.
 */
export async function putOnPlan(app: NestFastifyApplication, db: Client, userId: string, code: PresetCode): Promise<{ accountId: string }> {
  const existing = await db.query('SELECT id FROM accounts WHERE user_id = $1', [userId]);
  const accountId: string = existing.rows[0]?.id ?? (await insertAccount(db, { userId, status: 'ACTIVE', emailVerified: true })).id;
  const plan = (await app.get(PlansRepository).findPreset(code))!;
  const changes = app.get(SubscriptionChangesService);
  const at = app.get(Clock).now();
  await app.get(TransactionRunner).run(async (tx) => {
    const { current } = await changes.lock(tx, { accountId, userId }, at);
    await changes.applyPlanChange(tx, current, plan, { source: 'ADMIN', actorUserId: null, at });
  });
  return { accountId };
}

/** The free tier without a rate limit of its own, so the RATE_LIMIT_AUTHENTICATED a test sets applies. */
export const freeTierOnConfiguredRateLimit = (db: Client) =>
  db.query("UPDATE plans SET rate_limit_count = NULL, rate_limit_window_seconds = NULL WHERE code = 'NONE'");
