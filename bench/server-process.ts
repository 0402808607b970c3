import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { openSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { freePort } from '../test/helpers/redis-server';

const ROOT = resolve(__dirname, '..');
const CLOCK_TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

/** A server under measurement, in its own process: its URL, and its CPU time and RSS from /proc. */
export interface ServerProcess {
  url: string;
  pid: number;
  /** User + system CPU time the process has used, in microseconds. */
  cpuMicros(): number;
  rssMb(): number;
  stop(): Promise<void>;
}

/**
 * `node <args>` from the repository root on a free port (PORT), output to `logFile`, ready once
 * `readyPath` answers 200.
 */
export async function startServer(
  name: string,
  args: string[],
  env: Record<string, string>,
  logFile: string,
  options: { readyPath?: string; pollMs?: number } = {},
): Promise<ServerProcess> {
  const port = await freePort();
  const log = openSync(logFile, 'a');
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { PATH: process.env.PATH, ...env, PORT: String(port) }, stdio: ['ignore', log, log] });
  const url = `http://127.0.0.1:${port}`;
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  await waitForReady(`${url}${options.readyPath ?? '/health/ready'}`, exited, name, logFile, options.pollMs ?? 50);
  const pid = child.pid!;
  return {
    url,
    pid,
    cpuMicros: () => {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      // utime and stime are fields 14 and 15 of stat(5); the split starts at field 3.
      return ((Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND) * 1e6;
    },
    rssMb: () => {
      const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      return match ? Math.round(Number(match[1]) / 1024) : 0;
    },
    stop: () => stop(child, exited),
  };
}

export async function waitForReady(url: string, exited: Promise<number | null>, name: string, logFile: string, pollMs: number): Promise<void> {
  let gone = false;
  void exited.then(() => (gone = true));
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (gone) throw new Error(`${name} exited before it was ready; see ${logFile}:\n${readFileSync(logFile, 'utf8').slice(-2000)}`);
    const ok = await fetch(url, { signal: AbortSignal.timeout(1_000) }).then(
      (response) => response.status === 200,
      () => false,
    );
    if (ok) return;
    await new Promise((done) => setTimeout(done, pollMs));
  }
  throw new Error(`${name} was not ready within 120 s; see ${logFile}`);
}

async function stop(child: ChildProcess, exited: Promise<number | null>): Promise<void> {
  if (child.exitCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}
