import { afterEach, describe, expect, it, vi } from 'vitest';
import type { CustomPlanInput } from '../../src/modules/subscriptions/subscriptions.schemas';
import { SubscriptionsService } from '../../src/modules/subscriptions/subscriptions.service';
import { insertAccount } from '../factories/accounts';
import { insertUser } from '../factories/users';
import { domainError, userPrincipal } from '../helpers/principals';
import { changesOf, setClock } from '../helpers/subscriptions';
import { useTestApp } from '../helpers/test-app';

const NOW = new Date('2026-12-03T12:00:00.000Z');

/** Medium tier: the real SubscriptionsService and SubscriptionChangesService on this file's database, called without HTTP. */
describe('SubscriptionsService (medium)', () => {
  const ctx = useTestApp();
  const service = () => ctx.t.app.get(SubscriptionsService);
  afterEach(() => vi.restoreAllMocks());

  async function member(status: 'ACTIVE' | 'PENDING' = 'ACTIVE') {
    const user = await insertUser(ctx.db);
    const account = await insertAccount(ctx.db, { userId: user.id, status, emailVerified: true });
    return { user, accountId: account.id, principal: userPrincipal(user) };
  }
  const subscriptionRow = async (accountId: string) => (await ctx.db.query('SELECT * FROM subscriptions WHERE account_id = $1', [accountId])).rows[0];

  it('a user starts its TRIAL: TRIALING for a month, one history row and one subscription.changed event', async () => {
    setClock(ctx.t.app, NOW);
    const { user, accountId, principal } = await member();
    const view = await service().update(principal, { planCode: 'TRIAL' }, 'en');
    expect(view).toMatchObject({
      accountId,
      planCode: 'TRIAL',
      status: 'TRIALING',
      currentPeriodStart: NOW.toISOString(),
      currentPeriodEnd: '2027-01-03T12:00:00.000Z',
      expiresAt: '2027-01-03T12:00:00.000Z',
    });
    const { history, events } = await changesOf(ctx.db, accountId);
    expect(history).toMatchObject([{ source: 'USER', actor_user_id: user.id, previous_plan_code: 'NONE', plan_code: 'TRIAL', status: 'TRIALING' }]);
    expect(events).toMatchObject([{ source: 'USER', previousPlanCode: 'NONE', planCode: 'TRIAL', status: 'TRIALING', changedAt: NOW.toISOString() }]);
  });

  it('TRIAL is entered once per user: of parallel requests one wins, and cancelling does not give it back', async () => {
    const { accountId, principal } = await member();
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => service().update(principal, { planCode: 'TRIAL' }, 'en')));
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
    for (const refused of results.filter((result) => result.status === 'rejected')) expect(refused.reason).toMatchObject({ code: 'TRIAL_ALREADY_USED' });

    await service().update(principal, { planCode: 'NONE' }, 'en');
    expect(await domainError(service().update(principal, { planCode: 'TRIAL' }, 'en'))).toMatchObject({ code: 'TRIAL_ALREADY_USED', status: 409 });
    expect((await changesOf(ctx.db, accountId)).history.map((row) => row.plan_code)).toEqual(['TRIAL', 'NONE']);
  });

  it('NONE cancels at once (CANCELED, no end); asking for NONE while on NONE changes and records nothing', async () => {
    setClock(ctx.t.app, NOW);
    const { accountId, principal } = await member();
    expect(await service().update(principal, { planCode: 'NONE' }, 'en')).toMatchObject({ planCode: 'NONE' });
    expect((await changesOf(ctx.db, accountId)).history).toEqual([]);

    await service().update(principal, { planCode: 'TRIAL' }, 'en');
    const later = new Date(NOW.getTime() + 3_600_000);
    setClock(ctx.t.app, later);
    expect(await service().update(principal, { planName: 'NONE' }, 'en')).toMatchObject({ planCode: 'NONE', status: 'CANCELED', currentPeriodEnd: null });
    const { history, events } = await changesOf(ctx.db, accountId);
    expect(history.map((row) => [row.previous_plan_code, row.plan_code])).toEqual([
      ['NONE', 'TRIAL'],
      ['TRIAL', 'NONE'],
    ]);
    expect(events[1]).toMatchObject({ previousPlanCode: 'TRIAL', planCode: 'NONE', status: 'CANCELED', changedAt: later.toISOString() });
  });

  it('a paid preset needs a payment from a user, and writes nothing; an ADMIN grants it, recorded as ADMIN', async () => {
    setClock(ctx.t.app, NOW);
    const { user, accountId, principal } = await member();
    expect(await domainError(service().update(principal, { planCode: 'ENTRY_MONTHLY' }, 'en'))).toMatchObject({ code: 'PAYMENT_REQUIRED', status: 402 });
    expect(await subscriptionRow(accountId)).toBeUndefined();

    const admin = await insertUser(ctx.db, { role: 'ADMIN' });
    const view = await service().update(userPrincipal(admin), { userId: user.id, subscriberId: accountId, planCode: 'ENTRY_MONTHLY' }, 'en');
    expect(view).toMatchObject({ userId: user.id, planCode: 'ENTRY_MONTHLY', status: 'ACTIVE', currentPeriodEnd: '2027-01-03T12:00:00.000Z' });
    expect((await changesOf(ctx.db, accountId)).history).toMatchObject([{ source: 'ADMIN', actor_user_id: admin.id, plan_code: 'ENTRY_MONTHLY' }]);
  });

  it('who may change what: another user is 403 for a USER, another account 404, an inactive account and a custom plan refused', async () => {
    const { principal } = await member();
    const other = await member();
    expect(await domainError(service().update(principal, { userId: other.user.id, planCode: 'TRIAL' }, 'en'))).toMatchObject({ code: 'FORBIDDEN' });
    expect(await domainError(service().update(principal, { subscriberId: other.accountId, planCode: 'TRIAL' }, 'en'))).toMatchObject({ code: 'NOT_FOUND' });
    const customPlan: CustomPlanInput = {
      name: 'Custom',
      duration: { unit: 'MONTH', count: 1 },
      limitResetPeriod: 'MONTHLY',
      geoScope: ['ALL'],
      limits: [{ apiVersion: 'v1', endpoint: '*', maxCalls: 10 }],
    };
    expect(await domainError(service().update(principal, { customPlan }, 'en'))).toMatchObject({ code: 'FORBIDDEN' });

    const pending = await member('PENDING');
    expect(await domainError(service().update(pending.principal, { planCode: 'TRIAL' }, 'en'))).toMatchObject({ code: 'ACCOUNT_NOT_ACTIVE' });
    const withoutAccount = await insertUser(ctx.db);
    expect(await domainError(service().update(userPrincipal(withoutAccount), { planCode: 'TRIAL' }, 'en'))).toMatchObject({ code: 'NOT_FOUND' });
    expect(await subscriptionRow(other.accountId)).toBeUndefined();
  });

  it('a Stripe-billed account changes plan only through Stripe; once Stripe ended it, here again', async () => {
    const { accountId, principal, user } = await member();
    const admin = userPrincipal(await insertUser(ctx.db, { role: 'ADMIN' }));
    await service().update(admin, { userId: user.id, planCode: 'PREMIUM_MONTHLY' }, 'en');
    await ctx.db.query("UPDATE subscriptions SET stripe_subscription_id = 'sub_medium_1', stripe_status = 'active' WHERE account_id = $1", [accountId]);

    expect(await domainError(service().update(principal, { planCode: 'NONE' }, 'en'))).toMatchObject({ code: 'STRIPE_SUBSCRIPTION_EXISTS' });
    expect(await domainError(service().update(admin, { userId: user.id, planCode: 'ENTRY_MONTHLY' }, 'en'))).toMatchObject({
      code: 'STRIPE_SUBSCRIPTION_EXISTS',
    });

    await ctx.db.query("UPDATE subscriptions SET stripe_status = 'canceled' WHERE account_id = $1", [accountId]);
    expect(await service().update(principal, { planCode: 'NONE' }, 'en')).toMatchObject({ planCode: 'NONE' });
  });

  it('a change after the term ran out first records the expiry, then the change from NONE', async () => {
    setClock(ctx.t.app, NOW);
    const { user, accountId, principal } = await member();
    await service().update(principal, { planCode: 'TRIAL' }, 'en');
    const afterTerm = new Date('2027-01-10T00:00:00.000Z');
    setClock(ctx.t.app, afterTerm);
    const admin = userPrincipal(await insertUser(ctx.db, { role: 'ADMIN' }));
    await service().update(admin, { userId: user.id, planCode: 'ENTRY_MONTHLY' }, 'en');

    const { history } = await changesOf(ctx.db, accountId);
    expect(history.map((row) => [row.source, row.previous_plan_code, row.plan_code])).toEqual([
      ['USER', 'NONE', 'TRIAL'],
      ['EXPIRY', 'TRIAL', 'NONE'],
      ['ADMIN', 'NONE', 'ENTRY_MONTHLY'],
    ]);
    expect(await subscriptionRow(accountId)).toMatchObject({ current_period_start: afterTerm, status: 'ACTIVE' });
  });

  it("an account on NONE (no row, cancelled, or a term that ran out) reads with the NONE plan's current terms; another plan keeps its snapshot", async () => {
    const limits = (maxCalls: number) => [{ apiVersion: 'v1', endpoint: '*', maxCalls }];
    const setLimits = (code: string, maxCalls: number) =>
      ctx.db.query('UPDATE plans SET limits = $2 WHERE code = $1', [code, JSON.stringify(limits(maxCalls))]);
    const noRow = await member();
    const cancelled = await member();
    const lapsed = await member();
    const onTrial = await member();
    setClock(ctx.t.app, new Date('2026-10-20T12:00:00.000Z'));
    await service().update(lapsed.principal, { planCode: 'TRIAL' }, 'en');
    setClock(ctx.t.app, NOW);
    await service().update(cancelled.principal, { planCode: 'TRIAL' }, 'en');
    await service().update(cancelled.principal, { planCode: 'NONE' }, 'en');
    await service().update(onTrial.principal, { planCode: 'TRIAL' }, 'en');
    const trialLimits = (await service().mine(onTrial.principal, 'en')).limits;

    // The plans change after the rows snapshotted them.
    const { rows: before } = await ctx.db.query("SELECT code, limits FROM plans WHERE code IN ('NONE', 'TRIAL')");
    await setLimits('NONE', 7);
    await setLimits('TRIAL', 9);
    try {
      for (const { principal } of [noRow, cancelled, lapsed]) {
        expect(await service().mine(principal, 'en')).toMatchObject({ planCode: 'NONE', limits: limits(7) });
      }
      expect(await service().mine(onTrial.principal, 'en')).toMatchObject({ planCode: 'TRIAL', limits: trialLimits });
      expect(trialLimits).not.toEqual(limits(9));
      const listed = await service().list({}, undefined, 100, 'en');
      const byAccount = new Map(listed.items.map((item) => [item.accountId, item]));
      for (const { accountId } of [noRow, cancelled, lapsed]) expect(byAccount.get(accountId)).toMatchObject({ planCode: 'NONE', limits: limits(7) });
      expect(byAccount.get(onTrial.accountId)).toMatchObject({ planCode: 'TRIAL', limits: trialLimits });
      expect(await service().forAccount(lapsed.accountId, 'en')).toMatchObject({ planCode: 'NONE', status: 'NONE', currentPeriodEnd: null, limits: limits(7) });
    } finally {
      for (const row of before) await ctx.db.query('UPDATE plans SET limits = $2 WHERE code = $1', [row.code, JSON.stringify(row.limits)]);
    }
  });
});
