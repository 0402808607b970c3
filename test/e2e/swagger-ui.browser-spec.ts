import type { Page } from 'puppeteer-core';
import { describe, expect, it } from 'vitest';
import { registerUser, TEST_PASSWORD } from '../factories/users';
import { useBrowser } from '../helpers/browser';
import { useTestApp } from '../helpers/test-app';

/** Records each request's method and URL, and the headers Chromium actually sent with it. */
async function wireHeaders(page: Page) {
  const session = await page.createCDPSession();
  const requests = new Map<string, { method: string; url: string; headers?: Record<string, string> }>();
  const entry = (id: string) => requests.get(id) ?? requests.set(id, { method: '', url: '' }).get(id)!;
  session.on('Network.requestWillBeSent', (event) => Object.assign(entry(event.requestId), { method: event.request.method, url: event.request.url }));
  session.on('Network.requestWillBeSentExtraInfo', (event) => {
    entry(event.requestId).headers = Object.fromEntries(Object.entries(event.headers).map(([name, value]) => [name.toLowerCase(), String(value)]));
  });
  await session.send('Network.enable');
  return {
    /** The wire headers of the one request with this method and URL (waiting briefly: they may arrive after the response is shown). */
    of: async (method: string, url: string): Promise<Record<string, string | undefined>> => {
      const matching = () => [...requests.values()].filter((request) => request.method === method && request.url === url);
      await expect.poll(() => matching().map((request) => request.headers !== undefined), { timeout: 5_000 }).toEqual([true]);
      return matching()[0]!.headers!;
    },
  };
}

/** Expands an operation in Swagger UI, sends `body` through "Try it out" and returns the status shown. */
async function tryItOut(page: Page, method: string, path: string, body: unknown): Promise<string> {
  const block = `.opblock-${method}:has(.opblock-summary-path[data-path="${path}"])`;
  await page.click(`${block} .opblock-summary`);
  await page.click(`${block} .try-out__btn`);
  const textarea = `${block} textarea.body-param__text`;
  await page.waitForSelector(textarea);
  await page.$eval(textarea, (element) => ((element as unknown as { value: string }).value = ''));
  await page.type(textarea, JSON.stringify(body));
  await page.click(`${block} .execute`);
  const status = `${block} .live-responses-table .response .response-col_status`;
  await page.waitForSelector(status, { timeout: 15_000 });
  return page.$eval(status, (element) => element.textContent?.trim() ?? '');
}

describe('Swagger UI in headless Chromium (logs in through "Try it out", then writes with the cookie alone)', () => {
  // Secure cookies, as in production; PUBLIC_BASE_URL http://localhost:3000 while the docs are opened at 127.0.0.1.
  const ctx = useTestApp({ env: { COOKIE_SECURE: 'true' } });
  let url: string;
  const browser = useBrowser(async () => {
    await ctx.t.app.listen({ port: 0, host: '127.0.0.1' });
    url = await ctx.t.app.getUrl();
  });

  it('logs in on POST /v1/auth/login, then creates an API key on POST /v1/api-keys with the cookie alone: 201', { timeout: 90_000 }, async (test) => {
    const chromium = browser.require(test);
    const { input, user } = await registerUser(ctx.t.app);
    await ctx.db.query("UPDATE users SET status = 'ACTIVE' WHERE id = $1", [user.id]);
    const page = await chromium.newPage();
    // The headers as they went on the wire (Network.requestWillBeSentExtraInfo), not puppeteer's
    // request.headers(): those are the page's view, taken before the network stack adds Origin
    // and the cookie, and they carried Origin only when the extra info happened to arrive first.
    const wire = await wireHeaders(page);

    await page.goto(`${url}/docs`, { waitUntil: 'networkidle0' });
    expect(await tryItOut(page, 'post', '/v1/auth/login', { email: input.email, password: TEST_PASSWORD })).toBe('200');
    const cookies = await chromium.cookies();
    expect(cookies.find((cookie) => cookie.name.endsWith('gatehouse_auth'))?.httpOnly).toBe(true);

    expect(await tryItOut(page, 'post', '/v1/api-keys', { name: 'made in Swagger UI', scope: 'read-only' })).toBe('201');
    const create = await wire.of('POST', `${url}/v1/api-keys`);
    expect(create.authorization).toBeUndefined();
    expect(create.origin).toBe(url);
    expect(create.cookie).toMatch(/gatehouse_auth=/);
    const { rows } = await ctx.db.query('SELECT name FROM api_keys WHERE owner_id = $1', [user.id]);
    expect(rows).toEqual([{ name: 'made in Swagger UI' }]);
  });
});
