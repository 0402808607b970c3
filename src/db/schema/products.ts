import { sql } from 'drizzle-orm';
import { bigint, boolean, check, char, integer, pgTable, uniqueIndex, varchar } from 'drizzle-orm/pg-core';
import { createdAt, idColumn, updatedAt } from '../columns';
import { geoScope } from './subscriptions';

export const PRODUCT_LIMITS = { sku: 64, name: 200, barcode: 13, stripePriceId: 255 } as const;

/**
 * Money is integer minor units (bigint, read as a JS number: exact up to 2^53) and VAT is in
 * basis points; the gross price is derived on read, never stored.
 */
export const products = pgTable(
  'products',
  {
    id: idColumn('prd'),
    sku: varchar('sku', { length: PRODUCT_LIMITS.sku }).notNull(),
    name: varchar('name', { length: PRODUCT_LIMITS.name }).notNull(),
    barcode: varchar('barcode', { length: PRODUCT_LIMITS.barcode }),
    priceNetMinor: bigint('price_net_minor', { mode: 'number' }).notNull(),
    vatBasisPoints: integer('vat_basis_points').notNull(),
    currency: char('currency', { length: 3 }).notNull().default('USD'),
    /** Null: unlimited (digital goods). */
    stock: integer('stock'),
    active: boolean('active').notNull().default(true),
    /** Null: licenses never expire. */
    licenseDurationDays: integer('license_duration_days'),
    maxActivations: integer('max_activations').notNull().default(1),
    stripePriceId: varchar('stripe_price_id', { length: PRODUCT_LIMITS.stripePriceId }),
    /** Where its licenses validate from (any one scope); null: anywhere, with no lookup at all. */
    geoScope: geoScope('geo_scope').array(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (table) => [
    uniqueIndex('products_sku_key').on(table.sku),
    check('products_price_net_minor_check', sql`${table.priceNetMinor} >= 0`),
    check('products_vat_basis_points_check', sql`${table.vatBasisPoints} BETWEEN 0 AND 10000`),
    check('products_stock_check', sql`${table.stock} IS NULL OR ${table.stock} >= 0`),
    check('products_max_activations_check', sql`${table.maxActivations} >= 1`),
    check('products_license_duration_days_check', sql`${table.licenseDurationDays} IS NULL OR ${table.licenseDurationDays} >= 1`),
    check('products_geo_scope_check', sql`${table.geoScope} IS NULL OR cardinality(${table.geoScope}) >= 1`),
  ],
);
