import { Logger } from '@nestjs/common';
import { loadConfig, readProcessEnv } from '../config/config';
import { createPool } from './database';
import { startEmbeddedPostgres } from './embedded-postgres';
import { runMigrations } from './migrate';

/**
 * `npm run db:migrate` (or `node dist/db/migrate.cli.js` in a built image): applies pending
 * migrations to DATABASE_URL, or to the embedded database.
 */
async function main() {
  const config = loadConfig(readProcessEnv());
  const logger = new Logger('db:migrate');
  const embedded = config.database.url
    ? undefined
    : await startEmbeddedPostgres({ dir: config.database.embeddedDir, port: config.database.embeddedPort, database: 'gatehouse' });
  const pool = createPool({ url: config.database.url ?? embedded!.url, max: 1 });
  try {
    await runMigrations(pool, logger);
  } finally {
    await pool.end();
    await embedded?.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`Migration failed: ${String(error instanceof Error ? error.message : error)}\n`);
  process.exit(1);
});
