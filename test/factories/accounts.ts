import { randomBytes, randomInt } from 'node:crypto';
import { sha256 } from '../../src/common/crypto/secret-token';
import { newId } from '../../src/lib/ids';
import { accounts } from '../../src/db/schema';
import { Db, orm } from './db';
import { insertUser } from './users';

export type AccountRow = typeof accounts.$inferSelect;

/** A Turkish mobile number of its own, so per-number SMS limits never join two tests' accounts. */
export const newPhone = () => `+90532${String(randomInt(0, 10_000_000)).padStart(7, '0')}`;

/**
 * An accounts row, PENDING with a live emailed activation token unless told: `emailToken` as the
 * mail carries it (`<accountId>.<secret>`), `emailSecret` its bare secret (what links mailed
 * before carried), stored as the app stores it: SHA-256: `await insertAccount(db, { userId })`. `phoneCode` stores a
 * texted code's hash as well (bound to the account, as the app binds it). Without a user, an
 * INACTIVE one is inserted, as registration leaves it.
 */
export async function insertAccount(
  db: Db,
  overrides: Partial<Omit<typeof accounts.$inferInsert, 'emailTokenHash' | 'phoneCodeHash'>> & { phoneCode?: string } = {},
): Promise<AccountRow & { emailToken: string; emailSecret: string }> {
  const { phoneCode, userId = (await insertUser(db, { status: 'INACTIVE' })).id, id = newId('acc'), ...columns } = overrides;
  const emailSecret = randomBytes(32).toString('base64url');
  const [row] = await orm(db)
    .insert(accounts)
    .values({
      id,
      userId,
      accountType: 'INDIVIDUAL',
      mobilePhone: newPhone(),
      address: 'Büyükdere Cd. 1, İstanbul',
      emailTokenHash: sha256(emailSecret),
      emailTokenExpiresAt: new Date(Date.now() + 86_400_000),
      ...(phoneCode ? { phoneCodeHash: sha256(`${id}:${phoneCode}`), phoneCodeExpiresAt: new Date(Date.now() + 600_000) } : {}),
      ...columns,
    })
    .returning();
  return { ...row!, emailToken: `${id}.${emailSecret}`, emailSecret };
}
