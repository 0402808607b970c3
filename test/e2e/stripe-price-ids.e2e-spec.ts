import { beforeAll, describe, expect, it } from 'vitest';
import { registerAdmin } from '../factories/users';
import { useTestApp } from '../helpers/test-app';

describe('Stripe price ids are checked as Stripe writes them (issue 22)', () => {
  const ctx = useTestApp();
  // Messages follow the signed-in user's language: one ADMIN for each.
  const tokens: Record<string, string> = {};
  beforeAll(async () => {
    for (const language of ['en', 'tr', 'ar'] as const) tokens[language] = (await registerAdmin(ctx.t.app, ctx.db, { language })).accessToken;
  });

  const send = (method: 'POST' | 'PATCH', url: string, payload: object, lang = 'en') =>
    ctx.t.app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${tokens[lang]}`, 'content-type': 'application/json' },
      payload: JSON.stringify(payload),
    });
  const setPlanPrice = (stripePriceId: string, lang = 'en') => send('PATCH', '/v1/subscriptions/plans/ENTRY_MONTHLY', { stripePriceId }, lang);
  const storedPlanPrice = async () => (await ctx.db.query("SELECT stripe_price_id FROM plans WHERE code = 'ENTRY_MONTHLY'")).rows[0].stripe_price_id;

  it.each([
    ['prod_NWjs8kKbJWmuuc', 'STRIPE_PRICE_ID_OTHER_OBJECT', 'This is a Stripe prod_… id, not a price: a price id starts with price_'],
    ['1MoBy5LkdIwHu7ixZhnattbh', 'STRIPE_PRICE_ID_PREFIX', 'A Stripe price id starts with price_ (copy it from the price in the Stripe Dashboard)'],
    [
      'price_1MoBy5LkdIwHu7ixZhnattbh ',
      'STRIPE_PRICE_ID_CHARACTERS',
      'After price_, a Stripe price id has only letters and digits (no spaces, dashes or underscores)',
    ],
    ['price_entry_monthly', 'STRIPE_PRICE_ID_CHARACTERS', 'After price_, a Stripe price id has only letters and digits (no spaces, dashes or underscores)'],
    ['price_1Mo', 'STRIPE_PRICE_ID_LENGTH', 'A Stripe price id has 14 to 255 characters; this one has 9'],
    [`price_${'a'.repeat(250)}`, 'STRIPE_PRICE_ID_LENGTH', 'A Stripe price id has 14 to 255 characters; this one has 256'],
  ])('a plan refuses %j with 422 %s, saying what is wrong, and keeps its price', async (value, code, message) => {
    const before = await storedPlanPrice();
    const response = await setPlanPrice(value);
    expect(response.statusCode).toBe(422);
    expect(response.json().errors).toEqual([{ field: 'stripePriceId', code, message }]);
    expect(await storedPlanPrice()).toBe(before);
  });

  it('says it in Turkish and Arabic too', async () => {
    const tr = await setPlanPrice('prod_NWjs8kKbJWmuuc', 'tr');
    expect(tr.json().errors).toEqual([
      { field: 'stripePriceId', code: 'STRIPE_PRICE_ID_OTHER_OBJECT', message: 'Bu bir fiyat değil, Stripe prod_… kimliği: fiyat kimliği price_ ile başlar' },
    ]);
    const ar = await setPlanPrice('price_1Mo', 'ar');
    expect(ar.json().errors).toEqual([
      { field: 'stripePriceId', code: 'STRIPE_PRICE_ID_LENGTH', message: 'طول معرّف السعر في Stripe بين 14 و255 حرفًا؛ وطول هذا المعرّف 9' },
    ]);
  });

  it("accepts Stripe's own ids (14 and 24 characters after price_) and null", async () => {
    expect((await setPlanPrice('price_H5ggYwtDq4fbrJ')).statusCode).toBe(200);
    expect(await storedPlanPrice()).toBe('price_H5ggYwtDq4fbrJ');
    expect((await setPlanPrice('price_1MoBy5LkdIwHu7ixZhnattbh')).statusCode).toBe(200);
    expect(await storedPlanPrice()).toBe('price_1MoBy5LkdIwHu7ixZhnattbh');
    expect((await send('PATCH', '/v1/subscriptions/plans/ENTRY_MONTHLY', { stripePriceId: null })).statusCode).toBe(200);
    expect(await storedPlanPrice()).toBeNull();
  });

  it('a product is checked the same way, on create and on update', async () => {
    const product = { sku: 'PRICE-ID-1', name: 'Priced', priceNet: '10.00', vat: '20.00' };
    const refused = await send('POST', '/v1/products', { ...product, stripePriceId: 'prod_NWjs8kKbJWmuuc' });
    expect(refused.statusCode).toBe(422);
    expect(refused.json().errors).toEqual([expect.objectContaining({ field: 'stripePriceId', code: 'STRIPE_PRICE_ID_OTHER_OBJECT' })]);
    expect((await ctx.db.query("SELECT count(*)::int AS n FROM products WHERE sku = 'PRICE-ID-1'")).rows[0].n).toBe(0);

    const created = await send('POST', '/v1/products', { ...product, stripePriceId: 'price_1MoBy5LkdIwHu7ixZhnattbh' });
    expect(created.statusCode).toBe(201);
    const updated = await send('PATCH', `/v1/products/${created.json().id}`, { stripePriceId: 'price_ 1MoBy5LkdIwHu7ixZhnattbh' }, 'tr');
    expect(updated.statusCode).toBe(422);
    expect(updated.json().errors).toEqual([
      {
        field: 'stripePriceId',
        code: 'STRIPE_PRICE_ID_CHARACTERS',
        message: 'Stripe fiyat kimliğinde price_ sonrasında yalnızca harf ve rakam bulunur (boşluk, tire veya alt çizgi olmaz)',
      },
    ]);
    const [row] = (await ctx.db.query('SELECT stripe_price_id FROM products WHERE id = $1', [created.json().id])).rows;
    expect(row.stripe_price_id).toBe('price_1MoBy5LkdIwHu7ixZhnattbh');
  });
});
