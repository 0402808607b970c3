import { describe, expect, expectTypeOf, it } from 'vitest';
import { OwnerScope, ownerScope, Principal } from '../../src/common/auth/principal';
import { ownerCondition, scopedUserId } from '../../src/db/owner-scope';
import { apiKeys } from '../../src/db/schema';
import type { ApiKeysRepository } from '../../src/modules/api-keys/api-keys.repository';
import type { LicensesRepository } from '../../src/modules/licenses/licenses.repository';
import type { OrdersRepository } from '../../src/modules/orders/orders.repository';

const principal = (role: 'USER' | 'ADMIN'): Principal => ({
  kind: 'user',
  userId: 'usr_1',
  sessionId: 's',
  role,
  status: 'ACTIVE',
  language: 'en',
  locale: 'en',
  timezone: 'UTC',
});

describe('OwnerScope', () => {
  it('is the caller for a USER and everyone for an ADMIN, never undefined', () => {
    expect(ownerScope(principal('USER'))).toEqual({ userId: 'usr_1' });
    expect(ownerScope(principal('ADMIN'))).toEqual({ all: true });
    expect(scopedUserId({ userId: 'usr_1' })).toBe('usr_1');
    expect(scopedUserId({ all: true })).toBeNull();
    expect(ownerCondition(apiKeys.ownerId, { all: true })).toBeUndefined();
    expect(ownerCondition(apiKeys.ownerId, { userId: 'usr_1' })).toBeDefined();
  });

  // Type-level: `npm run typecheck` (the first step of npm test) fails when one of these no longer holds.
  it('cannot be left out or passed as undefined: that no longer compiles (once it read every tenant)', () => {
    expectTypeOf<undefined>().not.toExtend<OwnerScope>();
    expectTypeOf<string>().not.toExtend<OwnerScope>();
    expectTypeOf<{ userId: undefined }>().not.toExtend<OwnerScope>();
    expectTypeOf<{ all: false }>().not.toExtend<OwnerScope>();
    // Every owned-resource query takes exactly an OwnerScope first: not optional, not widened.
    expectTypeOf<ApiKeysRepository['findOwned']>().parameter(0).toEqualTypeOf<OwnerScope>();
    expectTypeOf<LicensesRepository['findOwned']>().parameter(0).toEqualTypeOf<OwnerScope>();
    expectTypeOf<OrdersRepository['findOwned']>().parameter(0).toEqualTypeOf<OwnerScope>();
    expectTypeOf<ApiKeysRepository['list']>().parameter(0).toEqualTypeOf<OwnerScope>();
    expectTypeOf<LicensesRepository['list']>().parameter(0).toEqualTypeOf<OwnerScope>();
    expectTypeOf<OrdersRepository['list']>().parameter(0).toEqualTypeOf<OwnerScope>();
  });
});
