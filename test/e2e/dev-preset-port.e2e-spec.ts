import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_PASSWORD, userInput } from '../factories/users';
import { startServerProcess, type ServerProcess } from '../helpers/server-process';
import { createTestDatabase, type TestDatabase } from '../helpers/test-app';

/**
 * Issue 22, Done-means 2: `PORT=3310 npm start` in development, with nothing else set, serves
 * http://localhost:3310 everywhere a user sees a URL: problem types, mailed links and the docs.
 * The real server process, as `npm start` runs it (HOST and PUBLIC_BASE_URL unset, no SMTP_URL).
 */
describe('issue 22: the development preset follows PORT (PORT=3310)', () => {
  const BASE = 'http://localhost:3310';
  let database: TestDatabase;
  let server: ServerProcess;
  let keys: string;

  beforeAll(async () => {
    database = await createTestDatabase('devport');
    keys = mkdtempSync(join(tmpdir(), 'gatehouse-devport-'));
    server = await startServerProcess(database.url, {
      NODE_ENV: 'development',
      PORT: '3310',
      HOST: undefined,
      PUBLIC_BASE_URL: undefined,
      SMTP_URL: undefined,
      LICENSE_SIGNING_KEY_FILE: join(keys, 'license-key.pem'),
      DATA_ENCRYPTION_KEY_FILE: join(keys, 'data-encryption-key'),
    });
  }, 90_000);

  afterAll(async () => {
    server?.child.kill('SIGTERM');
    await server?.exited;
    await database?.drop();
    rmSync(keys, { recursive: true, force: true });
  });

  const call = (path: string, init: RequestInit = {}) =>
    fetch(`${BASE}${path}`, { ...init, headers: { 'content-type': 'application/json', ...init.headers }, signal: AbortSignal.timeout(10_000) });

  it("a problem's type names the port", async () => {
    const answer = await call('/v1/no-such-route');
    expect(answer.status).toBe(404);
    expect(answer.headers.get('content-type')).toContain('application/problem+json');
    const problem = (await answer.json()) as { type: string };
    expect(problem.type).toMatch(/^http:\/\/localhost:3310\/problems\//);
    // And the page behind it is served there.
    expect((await call(new URL(problem.type).pathname)).status).toBe(200);
  });

  it('the mailed activation link names the port, and /dev/mail lists it', async () => {
    const input = userInput();
    expect((await call('/v1/auth/register', { method: 'POST', body: JSON.stringify(input) })).status).toBe(201);
    const login = await call('/v1/auth/login', { method: 'POST', body: JSON.stringify({ email: input.email, password: TEST_PASSWORD }) });
    expect(login.status).toBe(200);
    const { accessToken } = (await login.json()) as { accessToken: { token: string } };
    const request = await call('/v1/accounts/account-activation-request', {
      method: 'POST',
      headers: { authorization: `Bearer ${accessToken.token}` },
      body: JSON.stringify({ accountType: 'INDIVIDUAL', mobilePhone: '+905321234567', address: 'Büyükdere Cd. 1, İstanbul' }),
    });
    expect(request.status, await request.clone().text()).toBe(201);

    let link: string | undefined;
    for (let attempt = 0; attempt < 100 && !link; attempt++) {
      const { mails } = (await (await call('/dev/mail.json')).json()) as { mails: { to: string; links: string[] }[] };
      link = mails.find((mail) => mail.to === input.email.toLowerCase())?.links.find((candidate) => candidate.includes('/activate?'));
      if (!link) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(link).toMatch(/^http:\/\/localhost:3310\/activate\?/);
    const page = await call('/dev/mail');
    expect(page.status).toBe(200);
    expect(await page.text()).toContain(link!.replaceAll('&', '&amp;'));
  });

  it('/docs is served there, loads its spec from there, and the start-up line names it', async () => {
    const docs = await call('/docs');
    expect(docs.status).toBe(200);
    expect(await docs.text()).toContain('swagger-ui');
    const spec = await call('/openapi.json');
    expect(spec.status).toBe(200);
    // Its examples' problem types too: the committed spec's http://localhost:3000 is this server's base.
    const text = await spec.text();
    expect(text).not.toContain('localhost:3000');
    expect(text).toContain('"http://localhost:3310/problems/validation-failed"');
    expect(server.output()).toContain(`(docs at ${BASE}/docs)`);
  });
});
