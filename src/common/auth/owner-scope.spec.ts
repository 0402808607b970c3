import { describe, expect, it } from 'vitest';
import { ownerCondition, scopedUserId } from '../../db/owner-scope';
import { apiKeys } from '../../db/schema';
import type { ApiKeysRepository } from '../../modules/api-keys/api-keys.repository';
import type { LicensesRepository } from '../../modules/licenses/licenses.repository';
import type { OrdersRepository } from '../../modules/orders/orders.repository';
import { OwnerScope, ownerScope, Principal } from './principal';

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

  it('cannot be left out or passed as undefined: that no longer compiles (once it read every tenant)', () => {
    const scopes: OwnerScope[] = [];
    // @ts-expect-error an undefined owner is not a scope
    scopes.push(undefined);
    // @ts-expect-error nor is a bare user id
    scopes.push('usr_1');
    type FirstArguments = [
      Parameters<ApiKeysRepository['findOwned']>[0],
      Parameters<LicensesRepository['findOwned']>[0],
      Parameters<OrdersRepository['findOwned']>[0],
      Parameters<LicensesRepository['list']>[0],
      Parameters<OrdersRepository['list']>[0],
      Parameters<ApiKeysRepository['list']>[0],
    ];
    // @ts-expect-error every owned-resource query takes an OwnerScope first
    const undefinedOwners: FirstArguments = [undefined, undefined, undefined, undefined, undefined, undefined];
    expect(scopes).toHaveLength(2);
    expect(undefinedOwners).toHaveLength(6);
  });
});
