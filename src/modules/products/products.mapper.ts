import { iso } from '../../common/iso';
import { formatMoney, formatRate, grossOf, moneyNumber } from '../../common/money/money';
import { IntegrationProductRow, ProductRow } from './products.repository';
import { ProductView } from './products.schemas';

export function toProductView(row: ProductRow): ProductView {
  return {
    id: row.id,
    sku: row.sku,
    name: row.name,
    barcode: row.barcode,
    priceNet: formatMoney(row.priceNetMinor),
    vat: formatRate(row.vatBasisPoints),
    priceGross: formatMoney(grossOf(row.priceNetMinor, row.vatBasisPoints)),
    currency: row.currency,
    stock: row.stock,
    active: row.active,
    licenseDurationDays: row.licenseDurationDays,
    maxActivations: row.maxActivations,
    stripePriceId: row.stripePriceId,
    geoScope: row.geoScope,
    createdAt: iso(row.createdAt),
    updatedAt: iso(row.updatedAt),
  };
}

/** The published integration format: numbers computed from the stored integers. */
export function toIntegrationProductView(row: IntegrationProductRow) {
  return {
    Id: row.id,
    Sku: row.sku,
    Name: row.name,
    Barcode: row.barcode,
    PriceNet: moneyNumber(row.priceNetMinor),
    PriceGross: moneyNumber(grossOf(row.priceNetMinor, row.vatBasisPoints)),
    Vat: moneyNumber(row.vatBasisPoints),
    Stock: row.stock,
  };
}
