import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Blackhole } from '../helpers/blackhole';
import { freePort } from '../helpers/redis-server';
import { spawnServerProcess } from '../helpers/server-process';

const PASSWORD = 'boot-secret-5f2c9a';
const CONNECT_TIMEOUT_MS = 1_000;
/** Starting Node with the TypeScript loader, on a loaded 2-core machine. */
const START_MS = 15_000;

interface LogLine {
  level: number;
  context?: string;
  msg: string;
}

/** Starts the real server on `databaseUrl`; resolves with its exit code, its log lines and how long it lived. */
async function boot(databaseUrl: string) {
  const started = Date.now();
  const server = spawnServerProcess(databaseUrl, { DATABASE_CONNECT_TIMEOUT_MS: String(CONNECT_TIMEOUT_MS) });
  const timer = setTimeout(() => server.child.kill('SIGKILL'), 30_000);
  const code = await server.exited.finally(() => clearTimeout(timer));
  const output = server.output();
  const lines = output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as LogLine);
  return { code, output, lines, ms: Date.now() - started };
}

/**
 * Issue 20, scenario 8: Gatehouse does not start without its database. It exits 1 within the
 * connect timeout of trying, with one fatal line naming the server (never the password), so a
 * supervisor restarts it until the database is there.
 */
describe('#20 scenario 8: boot with the database unreachable exits 1 within the connect timeout, with one fatal log line', () => {
  let blackhole: Blackhole;
  beforeAll(async () => {
    blackhole = await Blackhole.start();
  });
  afterAll(async () => {
    await blackhole?.close();
  });

  function expectOneFatalLine(result: Awaited<ReturnType<typeof boot>>, server: string) {
    expect(result.code, result.output).toBe(1);
    const errors = result.lines.filter((line) => line.level >= 50);
    expect(errors, result.output).toHaveLength(1);
    expect(errors[0]).toMatchObject({ level: 60, context: 'Bootstrap' });
    expect(errors[0]!.msg).toContain(`Gatehouse failed to start: cannot connect to the database at ${server}`);
    expect(result.output).not.toContain('Gatehouse listening');
    expect(result.output).not.toContain(PASSWORD);
  }

  it('nothing listens on the port: exit 1 at once', async () => {
    const port = await freePort();
    const result = await boot(`postgres://gatehouse:${PASSWORD}@127.0.0.1:${port}/gatehouse`);
    expectOneFatalLine(result, `127.0.0.1:${port}/gatehouse`);
    expect(result.lines.at(-1)!.msg).toContain('ECONNREFUSED');
    expect(result.ms).toBeLessThan(START_MS);
  });

  it('a server that accepts and never answers (a frozen database): exit 1 once DATABASE_CONNECT_TIMEOUT_MS is over', async () => {
    const { port } = new URL(blackhole.url);
    const result = await boot(`postgres://gatehouse:${PASSWORD}@127.0.0.1:${port}/gatehouse`);
    expectOneFatalLine(result, `127.0.0.1:${port}/gatehouse`);
    expect(blackhole.connections).toBeGreaterThan(0);
    expect(result.ms).toBeGreaterThanOrEqual(CONNECT_TIMEOUT_MS);
    expect(result.ms).toBeLessThan(START_MS + CONNECT_TIMEOUT_MS);
  });
});
