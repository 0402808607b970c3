import { ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = join(__dirname, '../..');

interface Reply {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

function get(url: string, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * The real process: no DATABASE_URL, so it starts embedded Postgres in an empty directory, migrates,
 * serves, and on SIGTERM drains and exits 0.
 */
describe('the server process', () => {
  let dir: string;
  let child: ChildProcess;
  let stdout = '';
  let baseUrl: string;
  let exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The stdout lines holding `text`, once at least `count` have arrived (up to 5 s). */
  const linesWith = async (text: string, count: number) => {
    const matching = () => stdout.split('\n').filter((line) => line.includes(text));
    await expect.poll(() => matching().length, { timeout: 5_000, interval: 100 }).toBeGreaterThanOrEqual(count);
    return matching();
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-process-pg-'));
    // Empty, not deleted: an empty variable also hides a DATABASE_URL in the developer's .env.
    const env: NodeJS.ProcessEnv = { ...process.env, HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', EMBEDDED_POSTGRES_DIR: dir, DATABASE_URL: '' };
    child = spawn(process.execPath, ['-r', '@swc-node/register', 'test/fixtures/server-with-probe.ts'], { cwd: ROOT, env });
    exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    baseUrl = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`server did not start:\n${stdout}`)), 60_000);
      const poll = setInterval(() => {
        const match = /Gatehouse listening on (http:\/\/[^\s"]+?) \(docs/.exec(stdout);
        if (match?.[1]) {
          clearInterval(poll);
          clearTimeout(timer);
          resolve(match[1]);
        }
      }, 50);
      void exited.then(() => reject(new Error(`server exited during start:\n${stdout}`)));
    });
  }, 90_000);

  afterAll(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  it('starts on embedded Postgres with no database configured, and serves Swagger UI', async () => {
    expect(existsSync(join(dir, 'PG_VERSION'))).toBe(true);
    const ready = await get(`${baseUrl}/health/ready`);
    expect(ready.status).toBe(200);
    const docs = await get(`${baseUrl}/docs`);
    expect(docs.status).toBe(200);
    expect(docs.body).toContain('swagger-ui');
  });

  it('logs JSON lines with the request id and without credentials', async () => {
    const secrets = { authorization: 'Bearer tok-AAA-secret', cookie: 'gatehouse_auth=cookie-BBB-secret', 'x-request-id': 'log-check-1' };
    expect((await get(`${baseUrl}/health/ready`, secrets)).status).toBe(200);
    // stdout is written in 4 KB batches, or within LOG_FLUSH_INTERVAL_MS (1 s) on a quiet server.
    const lines = await linesWith('log-check-1', 1);
    for (const line of lines) {
      const entry = JSON.parse(line) as Record<string, unknown>;
      expect(entry.requestId).toBe('log-check-1');
      // Headers are not logged at all any more (issue 21): nothing to redact.
      expect(entry).not.toHaveProperty('req');
    }
    expect(lines.map((line) => JSON.parse(line) as unknown)).toContainEqual(
      expect.objectContaining({ msg: 'request completed', method: 'GET', route: '/health/ready', status: 200 }),
    );
    expect(stdout).not.toMatch(/AAA-secret|BBB-secret/);
  });

  it('logs one pino JSON format from the very first line (boot, embedded Postgres, migrations, requests)', () => {
    const lines = stdout.split('\n').filter((line) => line.trim() !== '');
    expect(lines.length).toBeGreaterThan(5);
    for (const line of lines) {
      const entry = JSON.parse(line) as Record<string, unknown>;
      expect(typeof entry.level, line).toBe('number');
      expect(typeof entry.time, line).toBe('number');
      expect(typeof entry.msg, line).toBe('string');
    }
    expect(lines[0]).toMatch(/"context":"EmbeddedPostgres"/);
  });

  it('logs a 404 without a stack trace (no stack for any 4xx)', async () => {
    expect((await get(`${baseUrl}/no-such-route`, { 'x-request-id': 'log-404' })).status).toBe(404);
    expect((await get(`${baseUrl}/test-probe/fail/NOT_FOUND`, { 'x-request-id': 'log-404-domain' })).status).toBe(404);
    const lines = await linesWith('log-404', 2);
    for (const line of lines) expect(line).not.toMatch(/"stack"|\n\s+at /);
  });

  it('on SIGTERM finishes the in-flight request, stops Postgres and exits 0 within 10 s', async () => {
    const slow = get(`${baseUrl}/test-probe/slow?ms=1500`);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const signalledAt = Date.now();
    child.kill('SIGTERM');

    const response = await slow;
    expect(response.status).toBe(200);
    // The handler queried the database after the signal: the pool closes only after draining.
    expect(JSON.parse(response.body)).toEqual({ finished: true, db: 1 });

    const { code, signal } = await exited;
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    expect(Date.now() - signalledAt).toBeLessThan(10_000);
    expect(existsSync(join(dir, 'postmaster.pid'))).toBe(false);
    await expect(get(`${baseUrl}/health/live`)).rejects.toThrow(/ECONNREFUSED/);
  });
});
