import { beforeAll } from 'vitest';
import { registerAdmin } from '../factories/users';
import type { TestApp } from './test-app';
import type { Client } from 'pg';

export type SignedInAdmin = Awaited<ReturnType<typeof registerAdmin>>;

/**
 * One signed-in ADMIN for a file's `describe`, registered in a beforeAll (call it after
 * `useTestApp`, whose app it needs): `const admin = useAdmin(ctx);`, then `admin().accessToken`.
 */
export function useAdmin(ctx: { t: TestApp; db: Client }): () => SignedInAdmin {
  let admin: SignedInAdmin | undefined;
  beforeAll(async () => {
    admin = await registerAdmin(ctx.t.app, ctx.db);
  });
  return () => {
    if (!admin) throw new Error('useAdmin: read admin() inside a test or a later hook');
    return admin;
  };
}
