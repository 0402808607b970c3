import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Charge } from '../../src/modules/metering/charge';
import { MeterService } from '../../src/modules/metering/meter.service';
import { putOnPlan } from '../factories/subscriptions';
import { insertUser } from '../factories/users';
import { setClock } from '../helpers/subscriptions';
import { useTestApp } from '../helpers/test-app';

const NOON = new Date('2026-12-03T12:00:00.000Z');
const TRIAL_DAILY_CALLS = 5;

/** Medium tier: the real MeterService (evaluate, then consume) on this file's database, called without HTTP. */
describe('MeterService (medium)', () => {
  const ctx = useTestApp();
  const meter = () => ctx.t.app.get(MeterService);
  const counters = async (userId: string) =>
    (await ctx.db.query('SELECT endpoint, window_start, used FROM quota_counters WHERE user_id = $1 ORDER BY window_start', [userId])).rows;
  afterEach(() => vi.restoreAllMocks());

  async function trialCharge(): Promise<{ userId: string; charge: Charge }> {
    setClock(ctx.t.app, NOON);
    const user = await insertUser(ctx.db);
    await putOnPlan(ctx.t.app, ctx.db, user.id, 'TRIAL');
    const evaluation = await meter().evaluate(user.id, { apiVersion: 'v1', endpoint: 'products.getAll', ip: null, api: 'gatehouse' });
    if (!('charge' in evaluation)) throw new Error(`TRIAL refused the call: ${evaluation.refusal}`);
    return { userId: user.id, charge: evaluation.charge };
  }

  it('evaluate counts nothing; with N calls left, 3N parallel consumes give exactly N successes and the counter stops at the limit', async () => {
    const { userId, charge } = await trialCharge();
    expect(charge.limit).toMatchObject({ apiVersion: 'v1', endpoint: '*', maxCalls: TRIAL_DAILY_CALLS });
    expect(await counters(userId)).toEqual([]);

    const results = await Promise.all(Array.from({ length: 3 * TRIAL_DAILY_CALLS }, () => meter().consume(charge, 1)));

    const allowed = results.filter((result) => result.allowed);
    expect(allowed).toHaveLength(TRIAL_DAILY_CALLS);
    // Each success saw its own count: the remaining values are 4..0, each once.
    expect(allowed.map((result) => result.quota.remaining).sort()).toEqual([0, 1, 2, 3, 4]);
    for (const refused of results.filter((result) => !result.allowed)) expect(refused.quota).toMatchObject({ limit: TRIAL_DAILY_CALLS, remaining: 0 });
    expect(await counters(userId)).toEqual([{ endpoint: '*', window_start: expect.any(Date), used: TRIAL_DAILY_CALLS }]);
  });

  it('a cost that does not fit is refused whole and counts nothing; one that fits exactly is taken', async () => {
    const { userId, charge } = await trialCharge();
    expect(await meter().consume(charge, 3)).toMatchObject({ allowed: true, quota: { remaining: 2 } });

    expect(await meter().consume(charge, 3)).toMatchObject({ allowed: false, quota: { remaining: 2 } });
    expect(await meter().consume(charge, TRIAL_DAILY_CALLS + 1)).toMatchObject({ allowed: false, quota: { remaining: 2 } });
    expect((await counters(userId))[0].used).toBe(3);

    expect(await meter().consume(charge, 2)).toMatchObject({ allowed: true, quota: { remaining: 0 } });
    expect((await counters(userId))[0].used).toBe(TRIAL_DAILY_CALLS);
  });

  it("TRIAL's allowance is daily: the next day's call goes to a new counter, which resets at the following midnight", async () => {
    const { userId, charge } = await trialCharge();
    expect(charge.window.end).toEqual(new Date('2026-12-04T00:00:00.000Z'));
    for (let i = 0; i < TRIAL_DAILY_CALLS; i++) expect((await meter().consume(charge, 1)).allowed).toBe(true);
    expect((await meter().consume(charge, 1)).allowed).toBe(false);

    vi.restoreAllMocks();
    setClock(ctx.t.app, new Date('2026-12-04T09:00:00.000Z'));
    const tomorrow = await meter().evaluate(userId, { apiVersion: 'v1', endpoint: 'products.getAll', ip: null, api: 'gatehouse' });
    if (!('charge' in tomorrow)) throw new Error('refused');
    expect(tomorrow.charge.window.end).toEqual(new Date('2026-12-05T00:00:00.000Z'));
    expect(await meter().consume(tomorrow.charge, 1)).toMatchObject({ allowed: true, quota: { remaining: TRIAL_DAILY_CALLS - 1 } });
    expect((await counters(userId)).map((row) => row.used)).toEqual([TRIAL_DAILY_CALLS, 1]);
  });

  it("on NONE, Gatehouse's metered endpoints are refused before anything is counted; the vendor's API is judged by the limits NONE names", async () => {
    const free = await insertUser(ctx.db);
    const call = { apiVersion: 'v1', endpoint: 'products.getAll', ip: null };

    expect(await meter().evaluate(free.id, { ...call, api: 'gatehouse' })).toMatchObject({ refusal: 'SUBSCRIPTION_REQUIRED' });
    // NONE's "*" is the free tier of Gatehouse's own API, not an allowance for the vendor's endpoints.
    expect(await meter().evaluate(free.id, { ...call, api: 'vendor' })).toMatchObject({ refusal: 'SUBSCRIPTION_REQUIRED' });
    expect(await counters(free.id)).toEqual([]);
  });

  it('the parallel exactness holds per user: two users drawing on the same plan at once each get their own full allowance', async () => {
    const [first, second] = await Promise.all([trialCharge(), trialCharge()]);
    const results = await Promise.all(
      Array.from({ length: 4 * TRIAL_DAILY_CALLS }, (_, i) =>
        meter()
          .consume((i % 2 ? first : second).charge, 1)
          .then((result) => [i % 2, result] as const),
      ),
    );
    for (const who of [0, 1]) expect(results.filter(([owner, result]) => owner === who && result.allowed)).toHaveLength(TRIAL_DAILY_CALLS);
    expect((await counters(first.userId))[0].used).toBe(TRIAL_DAILY_CALLS);
    expect((await counters(second.userId))[0].used).toBe(TRIAL_DAILY_CALLS);
  });
});
