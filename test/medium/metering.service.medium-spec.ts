import { describe, expect, it } from 'vitest';
import { Clock } from '../../src/common/clock';
import { EntitlementsService } from '../../src/modules/metering/entitlements.service';
import { QuotaCountersRepository } from '../../src/modules/metering/quota-counters.repository';
import { quotaWindow } from '../../src/modules/metering/quota-windows';
import { UsageService } from '../../src/modules/metering/usage.service';
import { insertUser } from '../factories/users';
import { putOnPlan } from '../factories/subscriptions';
import { domainError } from '../helpers/principals';
import { useTestApp } from '../helpers/test-app';

/**
 * Medium tier: metering's entitlements and usage on this file's database, reading subscriptions
 * only through SubscriptionTermsService, called without HTTP.
 */
describe('EntitlementsService and UsageService (medium)', () => {
  const ctx = useTestApp();
  const entitlements = () => ctx.t.app.get(EntitlementsService);
  const usage = () => ctx.t.app.get(UsageService);

  it('a user without an account is on NONE, in the fixed free-tier period', async () => {
    const user = await insertUser(ctx.db);
    expect(await entitlements().fresh(user.id)).toMatchObject({
      userId: user.id,
      accountId: null,
      plan: 'NONE',
      pastDue: false,
      periodStart: new Date(0),
      periodEnd: null,
    });
  });

  it("a paid plan's counters belong to its period; a term that ended reads as NONE before the sweep, PAST_DUE as pastDue", async () => {
    const user = await insertUser(ctx.db);
    const { accountId } = await putOnPlan(ctx.t.app, ctx.db, user.id, 'ENTRY_MONTHLY');
    const row = (await ctx.db.query('SELECT current_period_start FROM subscriptions WHERE account_id = $1', [accountId])).rows[0];
    expect(await entitlements().fresh(user.id)).toMatchObject({ accountId, plan: 'ENTRY_MONTHLY', pastDue: false, periodStart: row.current_period_start });

    await ctx.db.query("UPDATE subscriptions SET expires_at = now() - interval '1 minute', status = 'PAST_DUE' WHERE account_id = $1", [accountId]);
    expect(await entitlements().fresh(user.id)).toMatchObject({ accountId, plan: 'NONE', pastDue: true, periodStart: new Date(0) });
  });

  it("an ADMIN reads any account's usage in the current window of its plan; an unknown account is NOT_FOUND", async () => {
    const user = await insertUser(ctx.db);
    const { accountId } = await putOnPlan(ctx.t.app, ctx.db, user.id, 'ENTRY_MONTHLY');
    const entitlement = await entitlements().fresh(user.id);
    const limit = entitlement.terms.limits[0]!;
    const { periodStart, periodEnd } = entitlement;
    const window = quotaWindow(entitlement.terms.limitResetPeriod, periodStart, periodEnd, ctx.t.app.get(Clock).now());
    const key = { userId: user.id, periodStart, apiVersion: limit.apiVersion, endpoint: limit.endpoint, windowStart: window.start };
    await ctx.t.app.get(QuotaCountersRepository).consume(key, window.end, 3, limit.maxCalls);

    const shown = await usage().forAccount(accountId);
    expect(shown).toMatchObject({ accountId, userId: user.id, planCode: 'ENTRY_MONTHLY' });
    expect(shown.usage.find((item) => item.apiVersion === limit.apiVersion && item.endpoint === limit.endpoint)).toMatchObject({
      used: 3,
      limit: limit.maxCalls,
      remaining: limit.maxCalls - 3,
    });
    expect(await domainError(usage().forAccount('acc_missing'))).toMatchObject({ code: 'NOT_FOUND', status: 404 });
  });
});
