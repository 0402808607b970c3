import { AppConfig } from '../config/config';
import { startEmbeddedPostgres } from './embedded-postgres';

/** The database URL in use: DATABASE_URL, or an embedded Postgres started now (stop it when done). */
export async function openDatabase(config: AppConfig): Promise<{ url: string; stop: () => Promise<void> }> {
  if (config.database.url) return { url: config.database.url, stop: () => Promise.resolve() };
  const embedded = await startEmbeddedPostgres({ dir: config.database.embeddedDir, port: config.database.embeddedPort, database: 'gatehouse' });
  return { url: embedded.url, stop: () => embedded.stop() };
}
