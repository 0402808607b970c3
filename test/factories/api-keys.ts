import { apiKeys } from '../../src/db/schema';
import { sha256 } from '../../src/common/crypto/secret-token';
import { displayParts, generateApiKey } from '../../src/modules/api-keys/api-key-format';
import { Db, orm } from './db';
import { insertUser } from './users';

export type ApiKeyRow = typeof apiKeys.$inferSelect;

/**
 * An api_keys row stored as the app stores it (SHA-256, display prefix, last four), with its
 * plaintext `key` for a bearer header: `await insertApiKey(db, { ownerId, scope: 'admin' })`.
 * A read-write live key of a fresh user unless told; `prefix` is the API_KEY_PREFIX (default `gate`).
 */
export async function insertApiKey(
  db: Db,
  overrides: Partial<Omit<typeof apiKeys.$inferInsert, 'keyHash' | 'prefix' | 'last4'>> & { keyPrefix?: string } = {},
): Promise<ApiKeyRow & { key: string }> {
  const { keyPrefix = 'gate', ownerId = (await insertUser(db)).id, environment = 'live', ...columns } = overrides;
  const key = generateApiKey(keyPrefix, environment);
  const [row] = await orm(db)
    .insert(apiKeys)
    .values({ ownerId, environment, name: 'Test key', scope: 'read-write', keyHash: sha256(key), ...displayParts(key), ...columns })
    .returning();
  return { ...row!, key };
}
