import type { Page } from 'puppeteer-core';
import { afterAll, describe, expect, it } from 'vitest';
import { login, registerInactiveAndLogin, registerUser, TEST_PASSWORD } from '../factories/users';
import { useBrowser } from '../helpers/browser';
import { linkIn, Mailbox } from '../helpers/mailbox';
import { useTestApp } from '../helpers/test-app';
import { freePort } from '../helpers/redis-server';

describe('issue 22: the mailed links open the default pages in headless Chromium, which finish the job', () => {
  const mailbox = new Mailbox();
  let port = 0;
  let origin = '';
  const ctx = useTestApp(async () => {
    port = await freePort();
    origin = `http://127.0.0.1:${port}`;
    return { env: { SMTP_URL: await mailbox.start(), PUBLIC_BASE_URL: origin } };
  });
  const browser = useBrowser(() => ctx.t.app.listen({ port, host: '127.0.0.1' }).then(() => undefined));
  afterAll(() => mailbox.stop());

  /** A new tab that records what the page's Content-Security-Policy refused. */
  async function newPage(): Promise<{ page: Page; violations: string[] }> {
    const page = await browser.get()!.newPage();
    const violations: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
    });
    return { page, violations };
  }

  /** The outcome region once the page has an answer. */
  async function outcomeOf(page: Page): Promise<{ state: string; code: string | null; text: string }> {
    await page.waitForSelector('#outcome[data-outcome="success"], #outcome[data-outcome="failure"]', { timeout: 15_000 });
    return page.$eval('#outcome', (element) => ({
      state: element.getAttribute('data-outcome') ?? '',
      code: element.getAttribute('data-code'),
      text: element.textContent ?? '',
    }));
  }

  it('register -> activation request -> the mailed link -> /activate activates with no login -> the user logs in ACTIVE', { timeout: 90_000 }, async (test) => {
    browser.require(test);
    const session = await registerInactiveAndLogin(ctx.t.app);
    const request = await ctx.t.app.inject({
      method: 'POST',
      url: '/v1/accounts/account-activation-request',
      payload: JSON.stringify({ userId: session.user.id, accountType: 'INDIVIDUAL', mobilePhone: '+905321234567', address: 'Moda Cd. 1, İstanbul' }),
      headers: { 'content-type': 'application/json', authorization: `Bearer ${session.accessToken}` },
    });
    expect(request.statusCode, request.body).toBe(201);
    const link = linkIn((await mailbox.waitFor(session.input.email)).at(-1)!);
    expect(link.href.startsWith(`${origin}/activate?`)).toBe(true);

    const { page, violations } = await newPage();
    const posted: { url: string; authorization?: string; cookie?: string }[] = [];
    page.on('request', (sent) => {
      if (sent.method() === 'POST') posted.push({ url: sent.url(), ...sent.headers() });
    });
    await page.goto(link.href);
    // Opening the link does nothing by itself (a mail scanner that runs scripts activates nothing),
    // and the token leaves the address bar and the history at once.
    await page.waitForFunction("!window.location.search.includes('emailVerificationToken')");
    expect(new URL(page.url()).searchParams.has('emailVerificationToken')).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(posted).toHaveLength(0);
    expect((await ctx.db.query('SELECT status FROM users WHERE id = $1', [session.user.id])).rows).toEqual([{ status: 'INACTIVE' }]);
    await page.click('button[type="submit"]');
    const outcome = await outcomeOf(page);
    expect(outcome).toEqual({ state: 'success', code: null, text: 'Your account is active. You can sign in now.' });
    expect(violations).toEqual([]);
    // The page posted the token alone, with no credential.
    expect(posted).toHaveLength(1);
    expect(posted[0]).toMatchObject({ url: `${origin}/v1/accounts/activate-account` });
    expect(posted[0]!.authorization).toBeUndefined();
    expect(posted[0]!.cookie).toBeUndefined();

    const { rows } = await ctx.db.query('SELECT u.status AS "user", a.status AS account FROM users u JOIN accounts a ON a.user_id = u.id WHERE u.id = $1', [
      session.user.id,
    ]);
    expect(rows).toEqual([{ user: 'ACTIVE', account: 'ACTIVE' }]);
    const fresh = await login(ctx.t.app, session.input.email);
    const me = await ctx.t.app.inject({ method: 'GET', url: '/v1/users/me', headers: { authorization: `Bearer ${fresh.accessToken}` } });
    expect(me.json().user.status).toBe('ACTIVE');
    const products = await ctx.t.app.inject({ method: 'GET', url: '/v1/products', headers: { authorization: `Bearer ${fresh.accessToken}` } });
    expect(products.statusCode).toBe(200);

    // The same link again: the token is spent, and the page says why.
    await page.goto(link.href);
    await page.click('button[type="submit"]');
    expect(await outcomeOf(page)).toEqual({ state: 'failure', code: 'ACCOUNT_ALREADY_ACTIVE', text: 'This account is already active.' });
    await page.close();
  });

  it(
    'password-reset request -> the mailed link -> /reset-password: a common password is refused in place, a good one logs in',
    { timeout: 90_000 },
    async (test) => {
      browser.require(test);
      const { input } = await registerUser(ctx.t.app);
      const request = await ctx.t.app.inject({
        method: 'POST',
        url: '/v1/users/password-reset-request',
        payload: JSON.stringify({ email: input.email }),
        headers: { 'content-type': 'application/json' },
      });
      expect(request.statusCode).toBe(202);
      const link = linkIn((await mailbox.waitFor(input.email)).at(-1)!);
      expect(link.href.startsWith(`${origin}/reset-password?`)).toBe(true);

      const { page, violations } = await newPage();
      await page.goto(link.href);
      await page.type('#newPassword', 'password123');
      await page.click('button[type="submit"]');
      expect(await outcomeOf(page)).toMatchObject({
        state: 'failure',
        code: 'VALIDATION_FAILED',
        text: expect.stringContaining('This password is too common'),
      });
      expect(await page.$eval('#newPassword', (element) => element.getAttribute('aria-invalid'))).toBe('true');

      const newPassword = 'a brand new passphrase 42';
      await page.$eval('#newPassword', (element) => ((element as unknown as { value: string }).value = ''));
      await page.type('#newPassword', newPassword);
      await page.click('button[type="submit"]');
      await page.waitForSelector('#outcome[data-outcome="success"]', { timeout: 15_000 });
      expect(await page.$eval('#gatehouse-form', (element) => (element as unknown as { hidden: boolean }).hidden)).toBe(true);
      expect(violations).toEqual([]);
      await page.close();

      await login(ctx.t.app, input.email, newPassword);
      const old = await ctx.t.app.inject({
        method: 'POST',
        url: '/v1/auth/login',
        payload: JSON.stringify({ email: input.email, password: TEST_PASSWORD }),
        headers: { 'content-type': 'application/json' },
      });
      expect(old.statusCode).toBe(401);
    },
  );

  it('renders the Arabic page right to left, and shows the API’s answer in Arabic', { timeout: 60_000 }, async (test) => {
    browser.require(test);
    const { page, violations } = await newPage();
    await page.goto(`${origin}/activate?lang=ar&emailVerificationToken=acc_01jh8x2v3kf6qz9w0c4m5t7r8y.made-up`);
    // The language stays in the address; only the token is taken out of it.
    await page.waitForFunction("window.location.search === '?lang=ar'");
    await page.click('button[type="submit"]');
    const outcome = await outcomeOf(page);
    // As the browser lays it out, not only as the markup says.
    expect(await page.evaluate('[document.documentElement.lang, document.documentElement.dir, getComputedStyle(document.body).direction]')).toEqual([
      'ar',
      'rtl',
      'rtl',
    ]);
    expect(await page.$eval('h1', (element) => element.textContent)).toBe('فعّل حسابك');
    expect(outcome).toEqual({ state: 'failure', code: 'INVALID_TOKEN', text: 'الرمز غير صحيح أو سبق استخدامه.' });
    expect(violations).toEqual([]);

    await page.goto(`${origin}/reset-password?lang=ar`);
    expect(await outcomeOf(page)).toMatchObject({ state: 'failure', text: expect.stringContaining('هذا الرابط غير مكتمل') });
    expect(await page.$eval('#gatehouse-form', (element) => (element as unknown as { hidden: boolean }).hidden)).toBe(true);
    await page.close();
  });
});
