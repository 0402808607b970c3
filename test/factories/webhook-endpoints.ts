import { randomBytes } from 'node:crypto';
import type { SecretBox } from '../../src/common/crypto/secret-box';
import { webhookEndpoints } from '../../src/db/schema';
import { Db, orm } from './db';
import { insertUser } from './users';

export type WebhookEndpointRow = typeof webhookEndpoints.$inferSelect;

/**
 * A webhook_endpoints row as the app stores it (the secret sealed with the app's SecretBox, from
 * `app.get(SecretBox)`), with its plaintext `secret`: `await insertWebhookEndpoint(db, box, { ownerId })`.
 * Every event type, scope `own`, enabled, of a fresh user unless told.
 */
export async function insertWebhookEndpoint(
  db: Db,
  box: SecretBox,
  overrides: Partial<Omit<typeof webhookEndpoints.$inferInsert, 'secretSealed'>> = {},
): Promise<WebhookEndpointRow & { secret: string }> {
  const { ownerId = (await insertUser(db)).id, ...columns } = overrides;
  const secret = `whsec_${randomBytes(32).toString('base64')}`;
  const [row] = await orm(db)
    .insert(webhookEndpoints)
    .values({ ownerId, url: 'https://hooks.example.com/gatehouse', events: ['*'], secretSealed: box.seal(secret), ...columns })
    .returning();
  return { ...row!, secret };
}
