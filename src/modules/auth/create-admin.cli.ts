import { parseArgs } from 'node:util';
import { Logger } from '@nestjs/common';
import { Clock } from '../../common/clock';
import { BootLogger } from '../../common/logging/boot-logger';
import { loadConfig, readProcessEnv } from '../../config/config';
import { createDatabase, createPool } from '../../db/database';
import { runMigrations } from '../../db/migrate';
import { openDatabase } from '../../db/open-database';
import { usersServiceFor } from '../users/users.service';
import { AdminAccountsService } from './admin-accounts.service';
import { PasswordService } from './password.service';
import { RefreshTokensRepository } from './refresh-tokens.repository';
import { TransactionRunner } from '../../db/transaction';

const USAGE = 'usage: npm run create-admin -- --email <email>, then type the password, or pipe it on stdin';

/** Every line, the result and a refusal included, is a pino JSON line in the server's format. */
const logger = new BootLogger();
Logger.overrideLogger(logger);

/**
 * `npm run create-admin -- --email a@example.com`: creates or promotes an ACTIVE ADMIN. The
 * password comes from a prompt that does not echo, or from stdin, never from the command line:
 * npm prints the command it runs, and shells and `ps` keep it. While `npm start` runs on the
 * embedded Postgres, the same database is used (found through its postmaster.pid).
 */
async function main() {
  const { values } = parseArgs({ options: { email: { type: 'string' }, password: { type: 'string' } } });
  if (values.password !== undefined) throw new Error(`--password is not accepted: the command line is echoed and kept in history. ${USAGE}`);
  if (!values.email) throw new Error(USAGE);
  const password = await readPassword();
  const config = loadConfig(readProcessEnv());
  const database = await openDatabase(config, { attach: true });
  const pool = createPool({ url: database.url, max: 2 });
  try {
    await runMigrations(pool, new Logger('create-admin'));
    const passwords = new PasswordService(config);
    const db = createDatabase(pool);
    const admins = new AdminAccountsService(new TransactionRunner(db), usersServiceFor(db), new RefreshTokensRepository(db), passwords, new Clock(), config);
    const result = await admins.ensure(values.email, password);
    logger.pino.info(
      { context: 'create-admin', userId: result.id, created: result.created },
      `${result.created ? 'Created' : 'Updated'} ADMIN ${values.email}`,
    );
  } finally {
    await pool.end();
    await database.stop();
  }
}

/** From a terminal: asked twice, not echoed. Piped: the first line, exactly (passwords are never trimmed). */
async function readPassword(): Promise<string> {
  if (process.stdin.isTTY) {
    const password = await promptHidden('Password: ');
    if ((await promptHidden('Again: ')) !== password) throw new Error('The passwords differ.');
    return password;
  }
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const [line = ''] = Buffer.concat(chunks).toString('utf8').split(/\r?\n/);
  if (!line) throw new Error(`No password on stdin. ${USAGE}`);
  return line;
}

function promptHidden(question: string): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(question);
  stdin.setRawMode(true);
  stdin.setEncoding('utf8');
  stdin.resume();
  return new Promise((resolve, reject) => {
    let value = '';
    const finish = () => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
    };
    const onData = (chunk: string) => {
      for (const char of chunk) {
        if (char === '\r' || char === '\n') return (finish(), resolve(value));
        if (char === '\u0003') return (finish(), reject(new Error('Cancelled.')));
        value = char === '\u007f' || char === '\b' ? [...value].slice(0, -1).join('') : value + char;
      }
    };
    stdin.on('data', onData);
  });
}

main().catch((error: unknown) => {
  logger.pino.fatal({ context: 'create-admin' }, error instanceof Error ? error.message : String(error));
  process.exit(1);
});
