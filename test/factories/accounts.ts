import { newId } from '../../src/common/ids';

type Query = { query: (sql: string, params: unknown[]) => Promise<unknown> };

/** An account row for a user, ACTIVE unless told otherwise, as if its activation mail had been followed. */
export async function insertAccount(db: Query, userId: string, status: 'PENDING' | 'ACTIVE' | 'SUSPENDED' = 'ACTIVE'): Promise<string> {
  const id = newId('acc');
  await db.query(
    `INSERT INTO accounts (id, user_id, account_type, mobile_phone, address, status, email_verified)
     VALUES ($1, $2, 'INDIVIDUAL', '+905321234567', 'Büyükdere Cd. 1, İstanbul', $3, $4)`,
    [id, userId, status, status !== 'PENDING'],
  );
  return id;
}
