import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readmeShellBlocks } from '../helpers/readme';
import { TEST_JWT_SECRET } from '../helpers/test-app';

const ROOT = join(__dirname, '../..');

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitUntil(check: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return true;
}

/**
 * What a supervisor does: run `npm start` and send SIGTERM to the process it started, npm. The
 * script execs node, so npm's child is the server and npm forwards the signal to it.
 */
describe('`npm start` and signals: SIGTERM to the npm process stops node and the embedded Postgres', () => {
  let dir: string;
  let npm: ChildProcess;
  let output = '';
  let nodePid: number | undefined;
  let postmasterPid: number | undefined;
  let npmExited: Promise<number | null>;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'gatehouse-npm-start-'));
    // As root the embedded Postgres runs as "postgres", which must be able to enter its parent.
    await chmod(dir, 0o711);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'info',
      NODE_ENV: 'development',
      EMBEDDED_POSTGRES_DIR: join(dir, 'pg'),
      DATABASE_URL: '',
      JWT_SECRET: TEST_JWT_SECRET,
      LICENSE_SIGNING_KEY_FILE: join(dir, 'license-key.pem'),
      DATA_ENCRYPTION_KEY_FILE: join(dir, 'data-encryption-key'),
    };
    npm = spawn('npm', ['start'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    npmExited = new Promise((resolve) => npm.once('exit', (code) => resolve(code)));
    npm.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    npm.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    const listening = await waitUntil(() => /Gatehouse listening on/.test(output) || npm.exitCode !== null, 150_000);
    if (!listening || npm.exitCode !== null) throw new Error(`npm start did not come up:\n${output}`);
    const line = output.split('\n').find((entry) => entry.includes('Gatehouse listening on'))!;
    nodePid = (JSON.parse(line) as { pid: number }).pid;
    postmasterPid = Number(readFileSync(join(dir, 'pg', 'postmaster.pid'), 'utf8').split('\n')[0]);
  }, 180_000);

  afterAll(async () => {
    for (const pid of [nodePid, postmasterPid, npm?.pid]) if (pid && isAlive(pid)) process.kill(pid, 'SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  it("is the README quick start's command: `npm install && npm start` (CI's `npm ci` is the install)", () => {
    const [quickStart] = readmeShellBlocks().filter((block) => block.section === 'Quick start');
    expect(quickStart?.code).toMatch(/^npm install && npm start\b/m);
  });

  it('runs the server from the one-file bundle the build wrote (dist/server.bundle.js, scripts/bundle.ts)', () => {
    expect(output).toMatch(/Server code from \S*dist\/server\.bundle\.js/);
    // ASCII only: V8 keeps the bundle's source in the heap, two bytes per character if one is above U+00FF.
    expect(readFileSync(join(ROOT, 'dist/server.bundle.js'), 'utf8')).not.toMatch(/[\u0080-\uffff]/);
  });

  it('npm, node and Postgres all exit, and nothing is left listening', async () => {
    expect(nodePid).not.toBe(npm.pid);
    expect(isAlive(nodePid!)).toBe(true);
    expect(isAlive(postmasterPid!)).toBe(true);

    npm.kill('SIGTERM');

    expect(await waitUntil(() => !isAlive(nodePid!), 15_000)).toBe(true);
    expect(await waitUntil(() => !isAlive(postmasterPid!), 5_000)).toBe(true);
    await npmExited;
    expect(existsSync(join(dir, 'pg', 'postmaster.pid'))).toBe(false);
    expect(output).toContain('SIGTERM received: draining in-flight requests');
  }, 30_000);
});
