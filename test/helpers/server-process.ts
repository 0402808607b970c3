import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { TEST_JWT_SECRET } from './test-app';

const ROOT = join(__dirname, '../..');

export interface ServerProcess {
  child: ChildProcess;
  /** Everything it has written to stdout and stderr so far. */
  output(): string;
  /** Its URL, from the "listening" log line. */
  url: string;
  /** Resolves with the exit code once it has exited. */
  exited: Promise<number | null>;
}

/**
 * The real server process on `databaseUrl`, with `env` on top of a test setup, just spawned.
 * `withProbe` starts it with the test-only probe routes (test/fixtures/server-with-probe.ts).
 */
export function spawnServerProcess(databaseUrl: string, env: NodeJS.ProcessEnv = {}, options: { withProbe?: boolean } = {}): Omit<ServerProcess, 'url'> {
  const entry = options.withProbe ? 'test/fixtures/server-with-probe.ts' : 'src/main.ts';
  const child = spawn(process.execPath, ['-r', '@swc-node/register', entry], {
    cwd: ROOT,
    env: { ...process.env, NODE_ENV: 'test', HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', DATABASE_URL: databaseUrl, JWT_SECRET: TEST_JWT_SECRET, ...env },
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

/**
 * The real server process (src/main.ts, or with the probe routes) on `databaseUrl`, with `env` on
 * top of a test setup; resolves once it listens. For tests of what only a real process shows
 * (signals, crashes).
 */
export async function startServerProcess(databaseUrl: string, env: NodeJS.ProcessEnv = {}, options: { withProbe?: boolean } = {}): Promise<ServerProcess> {
  const { child, output, exited } = spawnServerProcess(databaseUrl, env, options);
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${output()}`)), 60_000);
    const poll = setInterval(() => {
      const match = /Gatehouse listening on (http:\/\/[0-9.:]+)/.exec(output());
      if (!match) return;
      clearInterval(poll);
      clearTimeout(timer);
      resolve(match[1]!);
    }, 50);
    void exited.then(() => reject(new Error(`server exited during start:\n${output()}`)));
  });
  return { child, output, url, exited };
}
