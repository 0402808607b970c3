import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { Browser, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerUser, TEST_PASSWORD } from '../factories/users';
import { useTestApp } from '../helpers/test-app';

/** Debian's chromium, which .ci/run installs; CHROMIUM_PATH names another. */
function findChromium(): string | undefined {
  const configured = process.env.CHROMIUM_PATH;
  if (configured) return configured;
  try {
    return execFileSync('sh', ['-c', 'command -v chromium || command -v chromium-browser'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

// As root there is no sandbox; nothing may reach the network but the app under test.
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
  '--disable-crash-reporter',
];

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
  // The defaults of `npm start`: PUBLIC_BASE_URL http://localhost:3000, Secure cookies; the docs at 127.0.0.1.
  const ctx = useTestApp({ env: { COOKIE_SECURE: 'true' } });
  const chromium = findChromium();
  let url: string;
  let browser: Browser | undefined;
  let profile: string | undefined;

  beforeAll(async () => {
    if (!chromium) return;
    await ctx.t.app.listen({ port: 0, host: '127.0.0.1' });
    url = await ctx.t.app.getUrl();
    profile = mkdtempSync(join(tmpdir(), 'gatehouse-chromium-'));
    browser = await puppeteer.launch({
      executablePath: chromium,
      headless: true,
      ignoreDefaultArgs: true,
      pipe: true,
      args: [...FLAGS, `--user-data-dir=${profile}`],
    });
  });
  afterAll(async () => {
    await browser?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  it('logs in on POST /v1/auth/login, then creates an API key on POST /v1/api-keys with the cookie alone: 201', { timeout: 90_000 }, async () => {
    // CI has chromium (.ci/run installs it): there, and wherever REQUIRE_BROWSER=1, a missing browser fails.
    expect(chromium, 'chromium is not installed: apt-get install -y chromium, or set CHROMIUM_PATH').toBeDefined();
    const { input, user } = await registerUser(ctx.t.app);
    await ctx.db.query("UPDATE users SET status = 'ACTIVE' WHERE id = $1", [user.id]);
    const page = await browser!.newPage();
    const sent: { url: string; authorization?: string; origin?: string }[] = [];
    page.on('request', (request) => sent.push({ url: request.url(), ...request.headers() }));

    await page.goto(`${url}/docs`, { waitUntil: 'networkidle0' });
    expect(await tryItOut(page, 'post', '/v1/auth/login', { email: input.email, password: TEST_PASSWORD })).toBe('200');
    const cookies = await browser!.cookies();
    expect(cookies.find((cookie) => cookie.name.endsWith('gatehouse_auth'))?.httpOnly).toBe(true);

    expect(await tryItOut(page, 'post', '/v1/api-keys', { name: 'made in Swagger UI', scope: 'read-only' })).toBe('201');
    const create = sent.find((request) => request.url === `${url}/v1/api-keys`);
    expect(create?.authorization).toBeUndefined();
    expect(create?.origin).toBe(url);
    const { rows } = await ctx.db.query('SELECT name FROM api_keys WHERE owner_id = $1', [user.id]);
    expect(rows).toEqual([{ name: 'made in Swagger UI' }]);
  });
});
