import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { EmbeddedPostgres, startEmbeddedPostgres } from '../../src/db/embedded-postgres';
import type { TestDatabase } from './test-app';

const run = promisify(execFile);

/**
 * A PostgreSQL cluster of the test's own (the embedded binaries, on a free port), so a test may
 * freeze, stop and restart it without disturbing the shared server other test files use.
 */
export class TestPostgresServer {
  private frozen: number[] = [];

  private constructor(
    private readonly dir: string,
    private server: EmbeddedPostgres,
    readonly database: string,
  ) {}

  static async start(database = 'gatehouse_test'): Promise<TestPostgresServer> {
    const dir = await mkdtemp(join(tmpdir(), 'gatehouse-fault-pg-'));
    return new TestPostgresServer(dir, await startEmbeddedPostgres({ dir, port: 0, database }), database);
  }

  get url(): string {
    return this.server.url;
  }

  /** For createTestApp's `database`: the cluster's one database, which closing the app must not drop. */
  get testDatabase(): TestDatabase {
    return { url: this.url, name: this.database, drop: () => Promise.resolve() };
  }

  /**
   * SIGSTOP to the postmaster, then to each of its children (every backend, the background
   * processes): open connections stay open and new ones are accepted by the kernel, but nothing
   * answers, as with a hung host. The postmaster goes first, so it forks nothing meanwhile.
   */
  async freeze(): Promise<void> {
    const postmaster = await this.postmasterPid();
    process.kill(postmaster, 'SIGSTOP');
    this.frozen = [postmaster];
    for (const pid of await childrenOf(postmaster)) {
      process.kill(pid, 'SIGSTOP');
      this.frozen.push(pid);
    }
  }

  thaw(): void {
    for (const pid of this.frozen.reverse()) {
      try {
        process.kill(pid, 'SIGCONT');
      } catch {
        // Exited meanwhile.
      }
    }
    this.frozen = [];
  }

  /** Thawed first if frozen; connections drop as in a crash of the server. */
  async stop(): Promise<void> {
    this.thaw();
    await this.server.stop();
  }

  /** Starts the cluster again on the same port and data. */
  async restart(): Promise<void> {
    this.server = await startEmbeddedPostgres({ dir: this.dir, port: this.server.port, database: this.database });
  }

  async remove(): Promise<void> {
    await this.stop();
    await rm(this.dir, { recursive: true, force: true });
  }

  private async postmasterPid(): Promise<number> {
    const pid = Number((await readFile(join(this.dir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
    if (!Number.isInteger(pid) || pid <= 0) throw new Error(`no postmaster pid in ${this.dir}`);
    return pid;
  }
}

/** The direct children of `pid`, from ps (Linux and macOS alike). */
async function childrenOf(pid: number): Promise<number[]> {
  const { stdout } = await run('ps', ['-A', '-o', 'pid=,ppid=']);
  return stdout
    .split('\n')
    .map((line) => line.trim().split(/\s+/).map(Number))
    .filter(([child, parent]) => parent === pid && Number.isInteger(child))
    .map(([child]) => child!);
}
