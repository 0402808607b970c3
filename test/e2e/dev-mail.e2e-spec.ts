import { describe, expect, it } from 'vitest';
import { DevMailbox } from '../../src/common/mail/dev-mailbox';
import { registerUser } from '../factories/users';
import { createApp } from '../../src/app.setup';
import { createTestDatabase, testConfig, useTestApp } from '../helpers/test-app';

interface DevMail {
  to: string;
  subject: string;
  text: string;
  links: string[];
}

describe('issue 22: mail in development (no SMTP_URL): kept in memory and shown at /dev/mail', () => {
  const ctx = useTestApp();

  async function mails(): Promise<DevMail[]> {
    const response = await ctx.t.app.inject({ method: 'GET', url: '/dev/mail.json' });
    expect(response.statusCode).toBe(200);
    return response.json<{ mails: DevMail[] }>().mails;
  }

  async function until<T>(read: () => Promise<T | undefined>): Promise<T> {
    for (let attempt = 0; attempt < 100; attempt++) {
      const value = await read();
      if (value !== undefined) return value;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error('timed out');
  }

  it('lists a mailed link, as JSON and as a page whose links can be clicked', async () => {
    const { input } = await registerUser(ctx.t.app);
    const request = await ctx.t.app.inject({
      method: 'POST',
      url: '/v1/users/password-reset-request',
      payload: { email: input.email, resetPageLink: 'http://localhost:3000/reset-password' },
    });
    expect(request.statusCode, request.body).toBe(202);
    const mail = await until(async () => (await mails()).find((candidate) => candidate.to === input.email.toLowerCase()));
    const link = mail.links.find((candidate) => candidate.startsWith('http://localhost:3000/reset-password?'));
    expect(link).toBeDefined();
    expect(mail.text).toContain(link);

    const page = await ctx.t.app.inject({ method: 'GET', url: '/dev/mail' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.body).toContain(`<a href="${link!.replaceAll('&', '&amp;')}">`);
  });

  it('escapes what users typed: a subject or text with markup is shown as text', async () => {
    ctx.t.app.get(DevMailbox).keep({ to: 'x@example.com', subject: '<script>alert(1)</script>', text: '<img src=x onerror=alert(1)>' }, new Date());
    const page = await ctx.t.app.inject({ method: 'GET', url: '/dev/mail' });
    expect(page.body).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(page.body).not.toContain('<script>');
    expect(page.body).not.toContain('<img');
  });

  it('keeps only the latest 50 mails, newest first', async () => {
    const mailbox = ctx.t.app.get(DevMailbox);
    for (let n = 0; n < 60; n++) mailbox.keep({ to: `bulk-${n}@example.com`, subject: `n${n}`, text: 'x' }, new Date());
    const listed = await mails();
    expect(listed).toHaveLength(50);
    expect(listed[0]!.to).toBe('bulk-59@example.com');
  });

  it('does not exist where the config says no dev mail page (production, or a real PUBLIC_BASE_URL; see config.spec)', async () => {
    // A server left at the default NODE_ENV but reachable at a real address: the same as production here.
    const database = await createTestDatabase('devmail');
    const config = testConfig({ PUBLIC_BASE_URL: 'https://gatehouse.example.com' });
    expect(config.devMailPage).toBe(false);
    const production = await createApp({ config, databaseUrl: database.url, migrate: false });
    try {
      await production.init();
      for (const url of ['/dev/mail', '/dev/mail.json']) expect((await production.inject({ method: 'GET', url })).statusCode).toBe(404);
    } finally {
      await production.close();
      await database.drop();
    }
  });
});
