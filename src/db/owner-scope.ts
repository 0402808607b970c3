import { eq, SQL } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';

/**
 * Whose rows an owned-resource query reads: one user's, or everyone's. Spelled out rather than an
 * optional user id, so a forgotten argument fails to compile instead of reading every tenant.
 */
export type OwnerScope = { userId: string } | { all: true };

/** The WHERE condition of an owner scope on a table's owner column: none for `{ all: true }`. */
export function ownerCondition(column: AnyPgColumn, scope: OwnerScope): SQL | undefined {
  return 'all' in scope ? undefined : eq(column, scope.userId);
}

/** The owner a scope names, for raw SQL; null for `{ all: true }`. */
export const scopedUserId = (scope: OwnerScope): string | null => ('all' in scope ? null : scope.userId);
