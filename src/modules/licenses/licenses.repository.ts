import { Inject, Injectable } from '@nestjs/common';
import { and, asc, count, eq, gt, ne, sql } from 'drizzle-orm';
import type { OwnerScope } from '../../common/auth/principal';
import { ownerCondition } from '../../db/owner-scope';
import { Database, DB } from '../../db/database';
import type { Executor, Transaction } from '../../db/database';
import { activations, licenses, products } from '../../db/schema';

export type LicenseRow = typeof licenses.$inferSelect;
export type ActivationRow = typeof activations.$inferSelect;
export type NewLicense = typeof licenses.$inferInsert;
type LicenseStatus = LicenseRow['status'];

const LICENSE_INSERT_CHUNK = 1000;

@Injectable()
export class LicensesRepository {
  /**
   * The hot path: one prepared, indexed query for the license, its activation count, the
   * fingerprint's activation and its product's geoScope (joined on the product's primary key).
   */
  private readonly forValidation;

  constructor(@Inject(DB) private readonly db: Database) {
    this.forValidation = this.db
      .select({
        license: licenses,
        productGeoScope: products.geoScope,
        // Qualified by hand: drizzle leaves columns of a one-table select unqualified, which the
        // subqueries would resolve against activations.
        activationCount: sql<number>`(SELECT count(*)::int FROM activations a WHERE a.license_id = "licenses"."id")`,
        activationId: sql<
          string | null
        >`(SELECT a.id FROM activations a WHERE a.license_id = "licenses"."id" AND a.fingerprint = ${sql.placeholder('fingerprint')})`,
      })
      .from(licenses)
      .innerJoin(products, eq(products.id, licenses.productId))
      .where(eq(licenses.keyHash, sql.placeholder('hash')))
      .prepare('license_for_validation');
  }

  async findForValidation(keyHash: string, fingerprint: string | undefined) {
    const [row] = await this.forValidation.execute({ hash: keyHash, fingerprint: fingerprint ?? '' });
    return row;
  }

  /**
   * The validation times of a batch (see LicenseValidationRecorder): each row takes its time unless
   * it holds a later one already (another instance's batch may land first).
   */
  async stampValidations(tx: Executor, licenseTimes: Map<string, Date>, activationTimes: Map<string, Date>): Promise<void> {
    for (const [table, times] of [
      [licenses, licenseTimes],
      [activations, activationTimes],
    ] as const) {
      if (times.size === 0) continue;
      await tx.execute(sql`
        UPDATE ${table} SET last_validated_at = stamp.at
          FROM unnest(${sql.param([...times.keys()])}::text[], ${sql.param([...times.values()].map((at) => at.toISOString()))}::timestamptz[]) AS stamp(id, at)
         WHERE ${table}.id = stamp.id AND (${table}.last_validated_at IS NULL OR ${table}.last_validated_at < stamp.at)`);
    }
  }

  /** Locks the license for the rest of the caller's transaction: activations of one license are then counted one at a time. */
  async lockByKeyHash(tx: Transaction, keyHash: string): Promise<LicenseRow | undefined> {
    const [license] = await tx.select().from(licenses).where(eq(licenses.keyHash, keyHash)).for('update');
    return license;
  }

  async findActivation(tx: Executor, licenseId: string, fingerprint: string): Promise<ActivationRow | undefined> {
    const [activation] = await tx
      .select()
      .from(activations)
      .where(and(eq(activations.licenseId, licenseId), eq(activations.fingerprint, fingerprint)));
    return activation;
  }

  async countActivations(tx: Executor, licenseId: string): Promise<number> {
    const [{ used } = { used: 0 }] = await tx.select({ used: count() }).from(activations).where(eq(activations.licenseId, licenseId));
    return used;
  }

  async insertActivation(tx: Executor, activation: typeof activations.$inferInsert): Promise<ActivationRow> {
    const [row] = await tx.insert(activations).values(activation).returning();
    return row!;
  }

  /** Whether the license had that machine, which it no longer has. */
  async removeActivation(tx: Executor, licenseId: string, fingerprint: string): Promise<boolean> {
    const removed = await tx
      .delete(activations)
      .where(and(eq(activations.licenseId, licenseId), eq(activations.fingerprint, fingerprint)))
      .returning({ id: activations.id });
    return removed.length > 0;
  }

  /** In chunks: one insert carries 8 parameters per license, and the protocol allows 65,535 per statement. */
  async insertMany(tx: Executor, rows: NewLicense[]): Promise<string[]> {
    const ids: string[] = [];
    for (let start = 0; start < rows.length; start += LICENSE_INSERT_CHUNK) {
      const inserted = await tx
        .insert(licenses)
        .values(rows.slice(start, start + LICENSE_INSERT_CHUNK))
        .returning({ id: licenses.id });
      ids.push(...inserted.map((row) => row.id));
    }
    return ids;
  }

  /** All of the order's licenses, or with `from` only those in that status; the ones it changed. */
  setStatusOfOrder(tx: Executor, orderId: string, status: LicenseStatus, only: { from?: LicenseStatus } = {}): Promise<LicenseRow[]> {
    return tx
      .update(licenses)
      .set({ status })
      .where(and(eq(licenses.orderId, orderId), ne(licenses.status, status), only.from ? eq(licenses.status, only.from) : undefined))
      .returning();
  }

  /** The license if this changed its status; undefined when it had it already, or does not exist. */
  async setStatus(tx: Executor, id: string, status: LicenseStatus): Promise<LicenseRow | undefined> {
    const [row] = await tx
      .update(licenses)
      .set({ status })
      .where(and(eq(licenses.id, id), ne(licenses.status, status)))
      .returning();
    return row;
  }

  async insert(license: NewLicense): Promise<LicenseRow> {
    const [row] = await this.db.insert(licenses).values(license).returning();
    return row!;
  }

  list(scope: OwnerScope, cursor: string | undefined, limit: number): Promise<LicenseRow[]> {
    return this.db
      .select()
      .from(licenses)
      .where(and(ownerCondition(licenses.userId, scope), cursor ? gt(licenses.id, cursor) : undefined))
      .orderBy(asc(licenses.id))
      .limit(limit + 1);
  }

  async findOwned(scope: OwnerScope, id: string): Promise<{ license: LicenseRow; activations: ActivationRow[] } | undefined> {
    const [license] = await this.db
      .select()
      .from(licenses)
      .where(and(eq(licenses.id, id), ownerCondition(licenses.userId, scope)));
    if (!license) return undefined;
    return { license, activations: await this.db.select().from(activations).where(eq(activations.licenseId, id)).orderBy(asc(activations.id)) };
  }

  async update(id: string, changes: Partial<Pick<LicenseRow, 'status' | 'expiresAt' | 'maxActivations'>>): Promise<LicenseRow | undefined> {
    const [row] = await this.db.update(licenses).set(changes).where(eq(licenses.id, id)).returning();
    return row;
  }
}
