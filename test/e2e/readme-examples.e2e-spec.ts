import { spawn } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { isSkipped, readmeShellBlocks, ROOT, SECTIONS_RUN_ELSEWHERE, SKIP_MARKER } from '../helpers/readme';
import { TEST_JWT_SECRET, useTestApp } from '../helpers/test-app';

const blocks = readmeShellBlocks().filter((block) => !(block.section in SECTIONS_RUN_ELSEWHERE));
const skipped = blocks.filter(isSkipped);
const runnable = blocks.filter((block) => !isSkipped(block));

/** What must never run from a test (it would install, start servers, or run the whole suite). */
const UNSAFE = /\bnpm (install|ci|start|test)\b|\bdocker\b/;

/**
 * Runs one example in bash, in its own process group so a timeout stops everything it started.
 * The server runs in this process, so this must be asynchronous (a sync exec would deadlock).
 */
async function runExample(script: string, env: NodeJS.ProcessEnv): Promise<string> {
  const child = spawn('bash', ['-c', script], { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const timer = setTimeout(() => child.pid && process.kill(-child.pid, 'SIGKILL'), 45_000);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve)).finally(() => clearTimeout(timer));
  if (code !== 0) throw new Error(`exit ${code}\n${stdout}\n${stderr}`);
  return stdout;
}

/** Any HTTP error status fails the example, as `set -e` fails it on any failing command. */
const PREAMBLE = 'set -euo pipefail\ncurl() { command curl --silent --show-error --fail-with-body "$@"; }\n';

describe('README examples (issue 8, finding: the /v1/users/me example could not work, $ACCESS_TOKEN was never set)', () => {
  const ctx = useTestApp();
  let origin: string;
  const outputs = new Map<number, string>();

  beforeAll(async () => {
    await ctx.t.app.listen({ port: 0, host: '127.0.0.1' });
    origin = (await ctx.t.app.getUrl()).replace(/^http:\/\//, '');
  });

  it('finds the examples, and skips only those that cannot run in a test, each saying why', () => {
    expect(runnable.length).toBeGreaterThanOrEqual(2);
    for (const block of skipped) {
      const reason = block.code.split('\n')[0]!.slice(SKIP_MARKER.length).trim();
      expect(reason, `README line ${block.line}`).not.toBe('');
      expect(block.code, `README line ${block.line}: only install/start/test/Docker blocks may be skipped`).toMatch(UNSAFE);
    }
  });

  it.each(runnable.map((block) => [block.line, block] as const))(
    'runs the example at README line %i against a started server',
    async (_line, block) => {
      const script = PREAMBLE + block.code.replaceAll('localhost:3000', origin);
      const env = {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        NODE_ENV: 'test',
        LOG_LEVEL: 'silent',
        JWT_SECRET: TEST_JWT_SECRET,
        DATABASE_URL: ctx.t.database.url,
        NEW_ADMIN_PASSWORD: 'a long admin passphrase',
      };
      // An unmarked install/start/Docker block fails here, without being run.
      expect(block.code, `README line ${block.line} must be marked "${SKIP_MARKER} <why>"`).not.toMatch(UNSAFE);
      const stdout = await runExample(script, env).catch((error: Error) => {
        throw new Error(`README line ${block.line} failed: ${error.message}`);
      });
      outputs.set(block.line, stdout);
    },
    60_000,
  );

  it('left what the examples promise: Ada registered, activated from the mailed link and read back with her token, and the first ADMIN made', async () => {
    const all = [...outputs.values()].join('\n');
    expect(all).toMatch(/"email":"ada@example.com"/);
    const users = await ctx.db.query('SELECT email, role, status FROM users ORDER BY email');
    expect(users.rows).toEqual([
      { email: 'ada@example.com', role: 'USER', status: 'ACTIVE' },
      { email: 'admin@example.com', role: 'ADMIN', status: 'ACTIVE' },
    ]);
    const accounts = await ctx.db.query(
      "SELECT a.status, a.email_verified, a.mobile_phone FROM accounts a JOIN users u ON u.id = a.user_id WHERE u.email = 'ada@example.com'",
    );
    expect(accounts.rows).toEqual([{ status: 'ACTIVE', email_verified: true, mobile_phone: '+905321234567' }]);
  });

  it('issue 22: the quick start walks register -> activation request -> the mailed link -> activate (no login) -> log in, each step run above', () => {
    const step = (pattern: RegExp) => {
      const block = runnable.find((candidate) => pattern.test(candidate.code));
      expect(block, String(pattern)).toBeDefined();
      return { line: block!.line, output: outputs.get(block!.line) ?? '' };
    };
    const register = step(/\/v1\/auth\/register/);
    const request = step(/\/v1\/accounts\/account-activation-request/);
    const activate = step(/\/v1\/accounts\/activate-account/);
    const login = step(/\/v1\/users\/me/);
    // In this order in the README, each after the one before.
    expect(register.line < request.line && request.line < activate.line && activate.line < login.line).toBe(true);
    expect(register.output).toMatch(/"status":"INACTIVE"/);
    expect(request.output).toMatch(/"status":"PENDING"/);
    // The activation block posts the token alone: no credential.
    expect(runnable.find((block) => block.line === activate.line)!.code).not.toMatch(/authorization/i);
    expect(activate.output).toMatch(/"status":"ACTIVE"/);
    expect(login.output).toMatch(/"status":"ACTIVE"/);
  });
});
