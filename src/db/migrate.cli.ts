import { Logger } from '@nestjs/common';
import { loadConfig, readProcessEnv } from '../config/config';
import { createPool } from './database';
import { runMigrations } from './migrate';
import { openDatabase } from './open-database';

/**
 * `npm run db:migrate` (or `node dist/db/migrate.cli.js` in a built image): applies pending
 * migrations to DATABASE_URL, or to the embedded database.
 */
async function main() {
  const database = await openDatabase(loadConfig(readProcessEnv()));
  const pool = createPool({ url: database.url, max: 1 });
  try {
    await runMigrations(pool, new Logger('db:migrate'));
  } finally {
    await pool.end();
    await database.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`Migration failed: ${String(error instanceof Error ? error.message : error)}\n`);
  process.exit(1);
});
