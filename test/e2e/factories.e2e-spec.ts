import { describe, expect, it } from 'vitest';
import { insertAccount } from '../factories/accounts';
import { insertApiKey } from '../factories/api-keys';
import { insertLicense } from '../factories/licenses';
import { insertOrder } from '../factories/orders';
import { insertProduct } from '../factories/products';
import { insertUser, login, registerAdmin } from '../factories/users';
import { callerFor } from '../helpers/http';
import { useTestApp } from '../helpers/test-app';

/** The factories write rows the app takes as its own: secrets hashed as src hashes them, defaults that pass its rules. */
describe('table factories', () => {
  const ctx = useTestApp();
  const call = callerFor(ctx);
  const post = (url: string, payload: unknown) =>
    ctx.t.app.inject({ method: 'POST', url, payload: JSON.stringify(payload), headers: { 'content-type': 'application/json' } });

  it('insertUser: the user logs in with the returned password; registerAdmin acts as an ADMIN without any UPDATE', async () => {
    const user = await insertUser(ctx.db);
    expect((await login(ctx.t.app, user.email, user.password)).body.user).toMatchObject({ id: user.id, role: 'USER', status: 'ACTIVE' });
    const admin = await registerAdmin(ctx.t.app, ctx.db);
    const listed = await call('GET', '/v1/users?limit=100', admin.accessToken);
    expect(listed.statusCode, listed.body).toBe(200);
    expect(listed.json().items.map((item: { id: string }) => item.id)).toContain(user.id);
  });

  it('insertApiKey: the returned key authenticates as its owner', async () => {
    const key = await insertApiKey(ctx.db, { scope: 'read-only' });
    const me = await call('GET', '/v1/users/me', key.key);
    expect(me.statusCode, me.body).toBe(200);
    expect(me.json().user.id).toBe(key.ownerId);
  });

  it('insertLicense: the returned key validates, on the product given or a fresh one', async () => {
    const product = await insertProduct(ctx.db, { maxActivations: 2 });
    const license = await insertLicense(ctx.db, { productId: product.id });
    expect(license.maxActivations).toBe(2);
    expect((await post('/v1/licenses/validate', { key: license.key, productId: product.id })).json()).toMatchObject({ valid: true, code: 'VALID' });
    expect((await post('/v1/licenses/validate', { key: (await insertLicense(ctx.db)).key })).json().code).toBe('VALID');
  });

  it('insertAccount: the returned email token activates the account through the API', async () => {
    const user = await insertUser(ctx.db, { status: 'INACTIVE' });
    const account = await insertAccount(ctx.db, { userId: user.id });
    const session = await login(ctx.t.app, user.email, user.password);
    const activated = await call('POST', '/v1/accounts/activate-account', session.accessToken, {
      userId: user.id,
      accountId: account.id,
      emailVerificationToken: account.emailToken,
    });
    expect(activated.statusCode, activated.body).toBe(200);
    expect((await ctx.db.query('SELECT status FROM users WHERE id = $1', [user.id])).rows).toEqual([{ status: 'ACTIVE' }]);
  });

  it('insertOrder: the owner reads the order with its items, priced as checkout prices them', async () => {
    const user = await insertUser(ctx.db);
    const product = await insertProduct(ctx.db, { priceNetMinor: 20750, vatBasisPoints: 2000 });
    const order = await insertOrder(ctx.db, { userId: user.id, items: [{ product, quantity: 2 }] });
    const session = await login(ctx.t.app, user.email, user.password);
    const read = await call('GET', `/v1/orders/${order.id}`, session.accessToken);
    expect(read.statusCode, read.body).toBe(200);
    expect(read.json()).toMatchObject({
      id: order.id,
      status: 'PENDING',
      amountTotal: '498.00',
      items: [{ productId: product.id, quantity: 2, unitPriceGross: '249.00' }],
    });
  });
});
