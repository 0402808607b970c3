import { AppConfig } from '../config/config';
import { runningEmbeddedPostgres, startEmbeddedPostgres } from './embedded-postgres';

const EMBEDDED_DATABASE = 'gatehouse';

/**
 * The database URL in use: DATABASE_URL, or an embedded Postgres started now (stop it when done).
 * With `attach`, an embedded Postgres that a running server already keeps is used as it is (and
 * left running): what command-line tools need while `npm start` runs.
 */
export async function openDatabase(config: AppConfig, options: { attach?: boolean } = {}): Promise<{ url: string; stop: () => Promise<void> }> {
  if (config.database.url) return { url: config.database.url, stop: () => Promise.resolve() };
  if (options.attach) {
    const running = await runningEmbeddedPostgres({ dir: config.database.embeddedDir, database: EMBEDDED_DATABASE });
    if (running) return { url: running.url, stop: () => Promise.resolve() };
  }
  const embedded = await startEmbeddedPostgres({ dir: config.database.embeddedDir, port: config.database.embeddedPort, database: EMBEDDED_DATABASE });
  return { url: embedded.url, stop: () => embedded.stop() };
}
