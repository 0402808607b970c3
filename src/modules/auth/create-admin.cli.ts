import { parseArgs } from 'node:util';
import { Logger } from '@nestjs/common';
import { Clock } from '../../common/clock';
import { loadConfig, readProcessEnv } from '../../config/config';
import { createDatabase, createPool } from '../../db/database';
import { runMigrations } from '../../db/migrate';
import { openDatabase } from '../../db/open-database';
import { UsersRepository } from '../users/users.repository';
import { AdminAccounts } from './admin-accounts';
import { PasswordService } from './password.service';

/** `npm run create-admin -- --email a@example.com --password '…'`: creates or promotes an ACTIVE ADMIN. */
async function main() {
  const { values } = parseArgs({ options: { email: { type: 'string' }, password: { type: 'string' } } });
  if (!values.email || !values.password) throw new Error('usage: npm run create-admin -- --email <email> --password <password>');
  const config = loadConfig(readProcessEnv());
  const database = await openDatabase(config);
  const pool = createPool({ url: database.url, max: 2 });
  try {
    await runMigrations(pool, new Logger('create-admin'));
    const passwords = new PasswordService();
    const admins = new AdminAccounts(new UsersRepository(createDatabase(pool)), passwords, new Clock(), config);
    const result = await admins.ensure(values.email, values.password);
    process.stdout.write(`${result.created ? 'Created' : 'Updated'} ADMIN ${values.email} (${result.id})\n`);
  } finally {
    await pool.end();
    await database.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
