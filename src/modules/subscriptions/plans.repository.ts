import { Inject, Injectable } from '@nestjs/common';
import { and, eq, isNull, ne, sql } from 'drizzle-orm';
import type { GeoScope } from '../../common/geo/geo-scopes';
import { Database, DB } from '../../db/database';
import { plans, PRESET_PLAN_CODES } from '../../db/schema';
import type { Executor, Transaction } from '../../db/database';

export type PlanRow = typeof plans.$inferSelect;
export type NewPlan = typeof plans.$inferInsert;
export type PresetCode = (typeof PRESET_PLAN_CODES)[number];
export type PlanChanges = Partial<
  Pick<NewPlan, 'limits' | 'rateLimitCount' | 'rateLimitWindowSeconds' | 'geoScope' | 'priceMinor' | 'currency' | 'stripePriceId'>
>;

/** The presets (made by the migration) and the CUSTOM plans made for single accounts. */
@Injectable()
export class PlansRepository {
  constructor(@Inject(DB) private readonly db: Database) {}

  listPresets(): Promise<PlanRow[]> {
    return this.db.select().from(plans).where(ne(plans.code, 'CUSTOM'));
  }

  async findPreset(code: PresetCode): Promise<PlanRow | undefined> {
    return this.findPresetIn(this.db, code);
  }

  /** `findPreset` inside a caller's transaction. */
  async findPresetIn(tx: Executor, code: PresetCode): Promise<PlanRow | undefined> {
    const [row] = await tx.select().from(plans).where(eq(plans.code, code));
    return row;
  }

  /** The preset a Stripe price belongs to: the seam for subscription webhooks. */
  async findPresetByStripePriceId(tx: Transaction, stripePriceId: string): Promise<PlanRow | undefined> {
    const [row] = await tx
      .select()
      .from(plans)
      .where(and(eq(plans.stripePriceId, stripePriceId), ne(plans.code, 'CUSTOM')));
    return row;
  }

  async updatePreset(code: PresetCode, changes: PlanChanges): Promise<PlanRow | undefined> {
    const [row] = await this.db.update(plans).set(changes).where(eq(plans.code, code)).returning();
    return row;
  }

  /**
   * Gives a preset a Stripe price unless it has one, or another plan has that one; true if it did.
   */
  async setStripePriceIdIfUnset(code: PresetCode, stripePriceId: string): Promise<boolean> {
    const rows = await this.db
      .update(plans)
      .set({ stripePriceId })
      .where(
        and(eq(plans.code, code), isNull(plans.stripePriceId), sql`NOT EXISTS (SELECT 1 FROM plans AS other WHERE other.stripe_price_id = ${stripePriceId})`),
      )
      .returning({ code: plans.code });
    return rows.length > 0;
  }

  /** Some plan's geoScope that keeps callers out (one without ALL), if any plan has one. */
  async findPlaceRestrictingScope(): Promise<GeoScope[] | undefined> {
    const [row] = await this.db
      .select({ geoScope: plans.geoScope })
      .from(plans)
      .where(sql`NOT ('ALL' = ANY(${plans.geoScope}))`)
      .limit(1);
    return row?.geoScope;
  }

  async insertCustom(tx: Executor, plan: NewPlan & { code: 'CUSTOM'; accountId: string }): Promise<PlanRow> {
    const [row] = await tx.insert(plans).values(plan).returning();
    return row!;
  }
}
