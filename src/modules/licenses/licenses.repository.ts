import { Inject, Injectable } from '@nestjs/common';
import { and, asc, count, eq, gt, sql } from 'drizzle-orm';
import { Pool } from 'pg';
import type { OwnerScope } from '../../common/auth/principal';
import { ownerCondition } from '../../db/owner-scope';
import { Database, DB, DB_POOL } from '../../db/database';
import { activations, licenses } from '../../db/schema';
import { OutboxEvent } from '../outbox/outbox.events';
import { OutboxRepository } from '../outbox/outbox.repository';

export type LicenseRow = typeof licenses.$inferSelect;
export type ActivationRow = typeof activations.$inferSelect;

export type ActivationOutcome =
  | { outcome: 'not-found' }
  | { outcome: 'invalid'; license: LicenseRow }
  | { outcome: 'existing'; activation: ActivationRow }
  | { outcome: 'full' }
  | { outcome: 'created'; activation: ActivationRow };

@Injectable()
export class LicensesRepository {
  /** The hot path: one prepared, indexed query for the license, its activation count and the fingerprint's activation. */
  private readonly forValidation;
  private readonly validationRecord;

  constructor(
    @Inject(DB) private readonly db: Database,
    @Inject(DB_POOL) private readonly pool: Pool,
    private readonly outbox: OutboxRepository,
  ) {
    const outboxRow = this.outbox.inlineAppend(4);
    this.validationRecord = {
      text: `WITH stamp_license AS (UPDATE licenses SET last_validated_at = $1 WHERE id = $2),
                  stamp_activation AS (UPDATE activations SET last_validated_at = $1 WHERE id = $3)
             ${outboxRow.text}`,
      values: (licenseId: string, activationId: string | null, at: Date, event: OutboxEvent<'license.validated'>) => [at, licenseId, activationId, ...outboxRow.values(event, at)],
    };
    this.forValidation = this.db
      .select({
        license: licenses,
        // Qualified by hand: drizzle leaves columns of a one-table select unqualified, which the
        // subqueries would resolve against activations.
        activationCount: sql<number>`(SELECT count(*)::int FROM activations a WHERE a.license_id = "licenses"."id")`,
        activationId: sql<string | null>`(SELECT a.id FROM activations a WHERE a.license_id = "licenses"."id" AND a.fingerprint = ${sql.placeholder('fingerprint')})`,
      })
      .from(licenses)
      .where(eq(licenses.keyHash, sql.placeholder('hash')))
      .prepare('license_for_validation');
  }

  async findForValidation(keyHash: string, fingerprint: string | undefined) {
    const [row] = await this.forValidation.execute({ hash: keyHash, fingerprint: fingerprint ?? '' });
    return row;
  }

  /**
   * The second and last query of a validation: both validation times and the `license.validated`
   * outbox row, in one prepared statement (one round trip, atomic without an explicit transaction).
   * The outbox row is the outbox repository's `inlineAppend`, its one exception to `append`.
   */
  async recordValidation(licenseId: string, activationId: string | null, at: Date, event: OutboxEvent<'license.validated'>): Promise<void> {
    await this.pool.query({ name: 'license_record_validation', text: this.validationRecord.text, values: this.validationRecord.values(licenseId, activationId, at, event) });
  }

  /**
   * Locks the license row, so concurrent activations are counted one at a time: with
   * maxActivations=3, exactly three of any number of parallel fingerprints get in. `isValid`
   * decides whether the locked license may be activated at all.
   */
  activate(
    keyHash: string,
    fingerprint: string,
    details: { name: string | null; platform: string | null; ip: string },
    isValid: (license: LicenseRow) => boolean,
    event: (license: LicenseRow, activation: ActivationRow) => OutboxEvent<'license.activated'>,
  ): Promise<ActivationOutcome> {
    return this.db.transaction(async (tx) => {
      const [license] = await tx.select().from(licenses).where(eq(licenses.keyHash, keyHash)).for('update');
      if (!license) return { outcome: 'not-found' };
      if (!isValid(license)) return { outcome: 'invalid', license };
      const [existing] = await tx.select().from(activations).where(and(eq(activations.licenseId, license.id), eq(activations.fingerprint, fingerprint)));
      if (existing) return { outcome: 'existing', activation: existing };
      const [{ used } = { used: 0 }] = await tx.select({ used: count() }).from(activations).where(eq(activations.licenseId, license.id));
      if (used >= license.maxActivations) return { outcome: 'full' };
      const [activation] = await tx.insert(activations).values({ licenseId: license.id, fingerprint, ...details }).returning();
      await this.outbox.append(tx, event(license, activation!));
      return { outcome: 'created', activation: activation! };
    });
  }

  async deactivate(keyHash: string, fingerprint: string): Promise<boolean> {
    const result = await this.db
      .delete(activations)
      .where(and(eq(activations.fingerprint, fingerprint), sql`${activations.licenseId} = (SELECT ${licenses.id} FROM ${licenses} WHERE ${licenses.keyHash} = ${keyHash})`));
    return (result.rowCount ?? 0) > 0;
  }

  async insert(license: typeof licenses.$inferInsert): Promise<LicenseRow> {
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
