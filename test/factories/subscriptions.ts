import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Clock } from '../../src/common/clock';
import { TransactionRunner } from '../../src/db/transaction';
import { PlansRepository, PresetCode } from '../../src/modules/subscriptions/plans.repository';
import { SubscriptionChangesService } from '../../src/modules/subscriptions/subscription-changes.service';
import { insertAccount } from './accounts';
import { Db } from './db';

/**
 * Puts a user on a preset through the app's own change path (an ACTIVE account is made if it has
 * none): for tests and benchmarks of a paid endpoint that are about something else.
 */
export async function putOnPlan(app: NestFastifyApplication, db: Db, userId: string, code: PresetCode): Promise<{ accountId: string }> {
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
export const freeTierOnConfiguredRateLimit = (db: Db) =>
  db.query("UPDATE plans SET rate_limit_count = NULL, rate_limit_window_seconds = NULL WHERE code = 'NONE'");
