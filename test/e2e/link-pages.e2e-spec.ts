import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.setup';
import { createTestDatabase, testConfig, useTestApp } from '../helpers/test-app';

/** Issue 22: the default /activate and /reset-password pages, as the server sends them (the browser spec runs them). */
describe('the default pages mailed links open', () => {
  const ctx = useTestApp();
  const open = (url: string, headers: Record<string, string> = {}) => ctx.t.app.inject({ method: 'GET', url, headers });

  it.each([
    ['/activate', 'Activate your account'],
    ['/reset-password', 'Choose a new password'],
  ])('%s is a plain English page by default, with its one inline script allowed by hash and nothing else', async (url, heading) => {
    const page = await open(`${url}?emailVerificationToken=acc_x.secret&token=prt_x.secret&utm_source=mail`);
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['cache-control']).toBe('no-store');
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    expect(page.body).toContain('<html lang="en" dir="ltr">');
    expect(page.body).toContain(`<h1>${heading}</h1>`);
    // The token stays in the URL: the server never writes it into the page.
    expect(page.body).not.toContain('secret');

    const scripts = [...page.body.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((match) => match[1]!);
    expect(scripts).toHaveLength(1);
    const hash = createHash('sha256').update(scripts[0]!).digest('base64');
    const policy = String(page.headers['content-security-policy']);
    expect(policy).toContain(`script-src 'sha256-${hash}'`);
    expect(policy).toContain("default-src 'none'");
    expect(policy).toContain("connect-src 'self'");
    expect(policy).toContain("frame-ancestors 'none'");
    expect(policy).not.toContain('unsafe-inline');
  });

  it('labels the password field of the reset page', async () => {
    const page = await open('/reset-password');
    expect(page.body).toContain('<label for="newPassword">New password</label>');
    expect(page.body).toMatch(/<input id="newPassword" name="newPassword" type="password" autocomplete="new-password" required/);
    expect(page.body).toContain('aria-describedby="password-help"');
    expect(page.body).toContain('<p id="outcome" role="status" aria-live="polite"></p>');
  });

  it('speaks ?lang= first, then Accept-Language; Arabic right to left', async () => {
    const turkish = await open('/activate', { 'accept-language': 'tr-TR,tr;q=0.9' });
    expect(turkish.body).toContain('<html lang="tr" dir="ltr">');
    expect(turkish.body).toContain('<h1>Hesabınızı etkinleştirin</h1>');
    expect(turkish.headers.vary).toContain('accept-language');

    const arabic = await open('/reset-password?lang=ar', { 'accept-language': 'tr' });
    expect(arabic.body).toContain('<html lang="ar" dir="rtl">');
    expect(arabic.body).toContain('<label for="newPassword">كلمة المرور الجديدة</label>');

    const unknown = await open('/activate?lang=de', { 'accept-language': 'ar' });
    expect(unknown.body).toContain('<html lang="ar" dir="rtl">');
  });

  it('is served in production too, posting below PUBLIC_BASE_URL’s path (a server behind a path prefix)', async () => {
    const database = await createTestDatabase('pages');
    const production = await createApp({
      config: { ...testConfig({ PUBLIC_BASE_URL: 'https://example.com/gatehouse' }), env: 'production' },
      databaseUrl: database.url,
      migrate: false,
    });
    try {
      await production.init();
      const activate = await production.inject({ method: 'GET', url: '/activate' });
      expect(activate.statusCode).toBe(200);
      expect(activate.body).toContain('data-action="/gatehouse/v1/accounts/activate-account"');
      const reset = await production.inject({ method: 'GET', url: '/reset-password' });
      expect(reset.body).toContain('data-action="/gatehouse/v1/users/password-reset"');
    } finally {
      await production.close();
      await database.drop();
    }
  });

  it('answers the API policy, not the page policy, everywhere else', async () => {
    const problem = await open('/problems/not-found');
    expect(problem.headers['content-security-policy']).toBe("default-src 'none';frame-ancestors 'none'");
  });
});
