import { eq, SQL } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import type { OwnerScope } from '../common/auth/principal';

/** The WHERE condition of an owner scope on a table's owner column: none for `{ all: true }`. */
export function ownerCondition(column: AnyPgColumn, scope: OwnerScope): SQL | undefined {
  return 'all' in scope ? undefined : eq(column, scope.userId);
}

/** The owner a scope names, for raw SQL; null for `{ all: true }`. */
export const scopedUserId = (scope: OwnerScope): string | null => ('all' in scope ? null : scope.userId);
