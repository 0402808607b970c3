import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import { geoScopeListSchema } from '../../common/geo/geo.schemas';
import { idSchema } from '../../lib/ids';
import { MONEY_PATTERN, RATE_PATTERN } from '../../common/money/money';
import { pageSchema, paginationQuerySchema } from '../../common/pagination';
import { stripePriceIdSchema } from '../../common/validation/stripe-price-id';
import { PRODUCT_LIMITS } from '../../db/schema/products';
import { GEO_SCOPES } from '../../db/schema/geo-scopes';
import { isValidBarcode } from './barcode';

const CURRENCIES = new Set(Intl.supportedValuesOf('currency'));
const twoDecimalCurrency = (code: string) => new Intl.NumberFormat('en', { style: 'currency', currency: code }).resolvedOptions().maximumFractionDigits === 2;

export const moneySchema = z
  .string()
  .regex(MONEY_PATTERN, 'must be a non-negative amount with at most two decimals, e.g. "207.50"')
  .meta({ example: '207.50' });

const vatSchema = z.string().regex(RATE_PATTERN, 'must be a percentage from 0 to 100 with at most two decimals, e.g. "20.00"').meta({ example: '20.00' });

/** ISO 4217, limited to currencies with two decimal places (the API's amounts have two). */
export const currencySchema = z
  .string()
  .regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as USD')
  .refine((code) => CURRENCIES.has(code) && twoDecimalCurrency(code), 'must be an ISO 4217 currency with two decimal places')
  .meta({ example: 'USD' });

const productFields = {
  sku: z
    .string()
    .trim()
    .min(1)
    .max(PRODUCT_LIMITS.sku)
    .regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, dot, dash and underscore only'),
  name: z.string().trim().min(1).max(PRODUCT_LIMITS.name),
  barcode: z
    .string()
    .refine(isValidBarcode, 'must be an EAN-13, EAN-8 or UPC-A with a correct check digit')
    // The check digit cannot be written in JSON Schema; the digits can.
    .meta({ pattern: '^(\\d{8}|\\d{12,13})$', example: '4006381333931', description: 'An EAN-13, EAN-8 or UPC-A with a correct check digit' })
    .nullable(),
  priceNet: moneySchema,
  vat: vatSchema,
  currency: currencySchema,
  stock: z.number().int().min(0).max(2_000_000_000).nullable().meta({ description: 'null: unlimited (digital goods)' }),
  active: z.boolean(),
  licenseDurationDays: z.number().int().min(1).max(36_500).nullable().meta({ description: 'null: perpetual licenses' }),
  maxActivations: z.number().int().min(1).max(100_000),
  stripePriceId: stripePriceIdSchema(PRODUCT_LIMITS.stripePriceId).nullable(),
  geoScope: geoScopeListSchema.nullable().meta({
    example: ['TURKEY'],
    description: "Where the product's licenses validate from (any one scope); null: anywhere. Elsewhere validate answers GEO_RESTRICTED.",
  }),
};

export class ProductCreateDto extends createZodDto(
  z
    .strictObject({
      ...productFields,
      barcode: productFields.barcode.optional(),
      currency: productFields.currency.default('USD'),
      stock: productFields.stock.default(null),
      active: productFields.active.default(true),
      licenseDurationDays: productFields.licenseDurationDays.default(null),
      maxActivations: productFields.maxActivations.default(1),
      stripePriceId: productFields.stripePriceId.optional(),
      geoScope: productFields.geoScope.default(null),
    })
    .meta({ id: 'ProductCreateRequest' }),
) {}

export class ProductUpdateDto extends createZodDto(z.strictObject(productFields).partial().meta({ id: 'ProductUpdateRequest' })) {}

export const productSchema = z
  .object({
    id: z.string().meta({ example: 'prd_01jh8x2v3kf6qz9w0c4m5t7r8y' }),
    sku: z.string(),
    name: z.string(),
    barcode: z.string().nullable(),
    priceNet: z.string().meta({ example: '207.50' }),
    vat: z.string().meta({ example: '20.00' }),
    priceGross: z.string().meta({ example: '249.00', description: 'net × (1 + vat/100), rounded half-up to the cent' }),
    currency: z.string(),
    stock: z.number().int().nullable(),
    active: z.boolean(),
    licenseDurationDays: z.number().int().nullable(),
    maxActivations: z.number().int(),
    stripePriceId: z.string().nullable(),
    geoScope: z.array(z.enum(GEO_SCOPES)).nullable().meta({ description: "Where the product's licenses validate from; null: anywhere" }),
    createdAt: z.iso.datetime({ offset: true }),
    updatedAt: z.iso.datetime({ offset: true }),
  })
  .meta({ id: 'Product' });

export type ProductView = z.infer<typeof productSchema>;

export class ProductResponseDto extends createZodDto(productSchema) {}
export class ProductPageDto extends createZodDto(pageSchema(productSchema, 'ProductPage')) {}
export class ProductIdParamsDto extends createZodDto(z.strictObject({ id: idSchema('prd') })) {}
export class ProductListQueryDto extends createZodDto(
  paginationQuerySchema.extend({
    search: z.string().max(200).optional().meta({ description: 'Part of the name, SKU or barcode; matched literally, without regard to case.' }),
  }),
) {}

/** The published integration format: PascalCase, prices as JSON numbers. */
export const integrationProductSchema = z.object({
  Id: z.string(),
  Sku: z.string(),
  Name: z.string(),
  Barcode: z.string().nullable(),
  PriceNet: z.number(),
  PriceGross: z.number(),
  Vat: z.number(),
  Stock: z.number().int().nullable(),
});

// No meta id here: nestjs-zod does not rename the items $ref of an array response to it.
export class IntegrationProductDto extends createZodDto(integrationProductSchema) {}
