import { Inject, Injectable } from '@nestjs/common';
import { and, asc, eq, gt, ilike, inArray, isNotNull, or, sql } from 'drizzle-orm';
import type { GeoScope } from '../../common/geo/geo-scopes';
import { containsPattern } from '../../common/pagination';
import { Database, DB } from '../../db/database';
import { products } from '../../db/schema';
import type { Executor, Transaction } from '../../db/database';

export type ProductRow = typeof products.$inferSelect;
export type NewProduct = typeof products.$inferInsert;
/** The columns the integration format is computed from (toIntegrationProductView). */
export type IntegrationProductRow = Pick<ProductRow, 'id' | 'sku' | 'name' | 'barcode' | 'priceNetMinor' | 'vatBasisPoints' | 'stock'>;

@Injectable()
export class ProductsRepository {
  /**
   * The integration catalog, read on every metered getAll: prepared once, and only the columns the
   * format needs. drizzle decodes each column of each row (timestamps into Dates): whole rows of
   * 100 products, built anew per call, were a large part of a getAll's CPU (`npm run bench`).
   */
  private readonly activeForIntegration;

  constructor(@Inject(DB) private readonly db: Database) {
    this.activeForIntegration = this.db
      .select({
        id: products.id,
        sku: products.sku,
        name: products.name,
        barcode: products.barcode,
        priceNetMinor: products.priceNetMinor,
        vatBasisPoints: products.vatBasisPoints,
        stock: products.stock,
      })
      .from(products)
      .where(eq(products.active, true))
      .orderBy(asc(products.id))
      .prepare('products_active_for_integration');
  }

  async insert(product: NewProduct): Promise<ProductRow> {
    const [row] = await this.db.insert(products).values(product).returning();
    return row!;
  }

  async update(id: string, changes: Partial<NewProduct>): Promise<ProductRow | undefined> {
    const [row] = await this.db.update(products).set(changes).where(eq(products.id, id)).returning();
    return row;
  }

  async findById(id: string): Promise<ProductRow | undefined> {
    const [row] = await this.db.select().from(products).where(eq(products.id, id));
    return row;
  }

  findByIds(ids: string[]): Promise<ProductRow[]> {
    return this.db.select().from(products).where(inArray(products.id, ids));
  }

  /** Locks a product's counted stock for the rest of the transaction; undefined when its stock is unlimited (null). */
  async lockStock(tx: Transaction, id: string): Promise<number | undefined> {
    const [row] = await tx
      .select({ stock: products.stock })
      .from(products)
      .where(and(eq(products.id, id), isNotNull(products.stock)))
      .for('update');
    return row?.stock ?? undefined;
  }

  async setStock(tx: Executor, id: string, stock: number): Promise<void> {
    await tx.update(products).set({ stock }).where(eq(products.id, id));
  }

  list(filter: { search?: string; cursor?: string; limit: number }): Promise<ProductRow[]> {
    const pattern = filter.search ? containsPattern(filter.search) : undefined;
    return this.db
      .select()
      .from(products)
      .where(
        and(
          pattern ? or(ilike(products.name, pattern), ilike(products.sku, pattern), ilike(products.barcode, pattern)) : undefined,
          filter.cursor ? gt(products.id, filter.cursor) : undefined,
        ),
      )
      .orderBy(asc(products.id))
      .limit(filter.limit + 1);
  }

  /** Some product's geoScope that keeps callers out (one without ALL), if any product has one. */
  async findPlaceRestrictingScope(): Promise<GeoScope[] | undefined> {
    const [row] = await this.db
      .select({ geoScope: products.geoScope })
      .from(products)
      .where(and(isNotNull(products.geoScope), sql`NOT ('ALL' = ANY(${products.geoScope}))`))
      .limit(1);
    return row?.geoScope ?? undefined;
  }

  /** Products on sale; the integration format has no `Active` field, so withdrawn ones are left out. */
  activeForIntegrationList(): Promise<IntegrationProductRow[]> {
    return this.activeForIntegration.execute();
  }
}
