import { ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TEST_JWT_SECRET } from './test-app';
import { freePort } from './redis-server';

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
 * The real server process (src/main.ts) on `databaseUrl`, with `env` on top of a test setup;
 * resolves once it listens. For tests of what only a real process shows (signals, crashes).
 * `withProbe` starts it with the test-only probe routes (test/fixtures/server-with-probe.ts).
 * Its stdout and stderr go to a file, not a pipe: Node writes to a pipe synchronously, so a test
 * busy elsewhere (driving load) would slow the server down by reading its log late. A timing test
 * passes `discardOutput`: the log is written to /dev/null (serialized and written as ever, but
 * never held up by a disk busy with other work), and readiness is asked of /health/live.
 */
export async function startServerProcess(
  databaseUrl: string,
  env: NodeJS.ProcessEnv = {},
  options: { withProbe?: boolean; discardOutput?: boolean } = {},
): Promise<ServerProcess> {
  const entry = options.withProbe ? 'test/fixtures/server-with-probe.ts' : 'src/main.ts';
  const logFile = options.discardOutput ? '/dev/null' : join(mkdtempSync(join(tmpdir(), 'gatehouse-server-')), 'output.log');
  const port = options.discardOutput ? await freePort() : 0;
  const fd = openSync(logFile, 'a');
  const child = spawn(process.execPath, ['-r', '@swc-node/register', entry], {
    cwd: ROOT,
    env: {
      ...process.env,
      NODE_ENV: 'test',
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'info',
      DATABASE_URL: databaseUrl,
      JWT_SECRET: TEST_JWT_SECRET,
      ...env,
    },
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  const output = () => (options.discardOutput ? '' : readFileSync(logFile, 'utf8'));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const listening = async (): Promise<string | undefined> => {
    if (!options.discardOutput) return /Gatehouse listening on (http:\/\/[0-9.:]+)/.exec(output())?.[1];
    const url = `http://127.0.0.1:${port}`;
    return (await fetch(`${url}/health/live`)
      .then((answer) => answer.ok)
      .catch(() => false))
      ? url
      : undefined;
  };
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${output()}`)), 60_000);
    const poll = setInterval(() => {
      void listening().then((found) => {
        if (!found) return;
        clearInterval(poll);
        clearTimeout(timer);
        resolve(found);
      });
    }, 50);
    void exited.then(() => {
      clearInterval(poll);
      clearTimeout(timer);
      reject(new Error(`server exited during start:\n${output()}`));
    });
  });
  return { child, output, url, exited };
}

/**
 * The real server process (src/main.ts) on `databaseUrl`, just spawned, its output read from a pipe:
 * for tests of a process that must not come up (no database), which never reach readiness.
 */
export function spawnServerProcess(databaseUrl: string, env: NodeJS.ProcessEnv = {}): Omit<ServerProcess, 'url'> {
  const child = spawn(process.execPath, ['-r', '@swc-node/register', 'src/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, NODE_ENV: 'test', HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info', DATABASE_URL: databaseUrl, JWT_SECRET: TEST_JWT_SECRET, ...env },
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}
