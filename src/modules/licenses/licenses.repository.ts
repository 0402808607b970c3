import { Inject, Injectable } from '@nestjs/common';
import { and, asc, count, eq, gt, ne, sql } from 'drizzle-orm';
import type { OwnerScope } from '../../common/auth/principal';
import { ownerCondition } from '../../db/owner-scope';
import type { Pool } from 'pg';
import { Database, DB, DB_POOL } from '../../db/database';
import { PreparedSql } from '../../db/prepared-sql';
import type { Executor, Transaction } from '../../db/database';
import { activations, licenses, products } from '../../db/schema';

export type LicenseRow = typeof licenses.$inferSelect;
export type ActivationRow = typeof activations.$inferSelect;
export type NewLicense = typeof licenses.$inferInsert;
type LicenseStatus = LicenseRow['status'];

const LICENSE_INSERT_CHUNK = 1000;

/** The validation lookup's one column: a JSON array, in this order (see FOR_VALIDATION). */
type ValidationTuple = [
  id: string,
  keyHash: string,
  keyPrefix: string,
  productId: string,
  userId: string,
  orderId: string | null,
  status: LicenseStatus,
  maxActivations: number,
  expiresAtMs: number | null,
  lastValidatedAtMs: number | null,
  createdAtMs: number,
  productGeoScope: GeoScope[] | null,
  activationCount: number,
  activationId: string | null,
];
type GeoScope = NonNullable<(typeof products.$inferSelect)['geoScope']>[number];

/**
 * The hot path (`POST /v1/licenses/validate`, public): one prepared, indexed query for the
 * license, its activation count, the fingerprint's activation and its product's geoScope (joined
 * on the product's primary key). Its row is one JSON array, which pg parses with JSON.parse and
 * `findForValidation` turns into typed fields; times are epoch milliseconds (floored, as a Date
 * parsed from Postgres's text keeps milliseconds). Measured under `npm run bench` (session 10):
 * pg's per-query field setup and drizzle's row mapping for the 14 columns it replaces cost about
 * 20 µs of a validation's 300. test/medium/licenses-validation-row.medium-spec.ts checks the
 * decoded row equals drizzle's select of the same license, field for field.
 */
const FOR_VALIDATION = new PreparedSql(
  'license_for_validation',
  sql`SELECT json_build_array(
        l.id, l.key_hash, l.key_prefix, l.product_id, l.user_id, l.order_id, l.status, l.max_activations,
        floor(extract(epoch FROM l.expires_at) * 1000),
        floor(extract(epoch FROM l.last_validated_at) * 1000),
        floor(extract(epoch FROM l.created_at) * 1000),
        p.geo_scope,
        (SELECT count(*)::int FROM activations a WHERE a.license_id = l.id),
        (SELECT a.id FROM activations a WHERE a.license_id = l.id AND a.fingerprint = ${sql.placeholder('fingerprint')})
      ) AS v
      FROM licenses l JOIN products p ON p.id = l.product_id
     WHERE l.key_hash = ${sql.placeholder('hash')}`,
);

const dateOrNull = (ms: number | null) => (ms === null ? null : new Date(ms));

@Injectable()
export class LicensesRepository {
  constructor(
    @Inject(DB) private readonly db: Database,
    /** For the prepared validation lookup (PreparedSql), which drizzle's db cannot run. */
    @Inject(DB_POOL) private readonly pool: Pool,
  ) {}

  async findForValidation(keyHash: string, fingerprint: string | undefined) {
    const { rows } = await this.pool.query<{ v: ValidationTuple }>(FOR_VALIDATION.query({ hash: keyHash, fingerprint: fingerprint ?? '' }));
    if (rows.length === 0) return undefined;
    // Positions as ValidationTuple names them.
    const v = rows[0]!.v;
    const license: LicenseRow = {
      id: v[0],
      keyHash: v[1],
      keyPrefix: v[2],
      productId: v[3],
      userId: v[4],
      orderId: v[5],
      status: v[6],
      maxActivations: v[7],
      expiresAt: dateOrNull(v[8]),
      lastValidatedAt: dateOrNull(v[9]),
      createdAt: new Date(v[10]),
    };
    return { license, productGeoScope: v[11], activationCount: v[12], activationId: v[13] };
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
