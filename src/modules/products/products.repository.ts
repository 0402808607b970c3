import { Inject, Injectable } from '@nestjs/common';
import { and, asc, eq, gt, ilike, or } from 'drizzle-orm';
import { containsPattern } from '../../common/pagination';
import { Database, DB } from '../../db/database';
import { products } from '../../db/schema';

export type ProductRow = typeof products.$inferSelect;
export type NewProduct = typeof products.$inferInsert;

@Injectable()
export class ProductsRepository {
  constructor(@Inject(DB) private readonly db: Database) {}

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

  /** Products on sale; the integration format has no `Active` field, so withdrawn ones are left out. */
  allActive(): Promise<ProductRow[]> {
    return this.db.select().from(products).where(eq(products.active, true)).orderBy(asc(products.id));
  }
}
