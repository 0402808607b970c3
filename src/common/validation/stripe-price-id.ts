import { z } from 'zod';

export const STRIPE_PRICE_ID_PATTERN = '^price_[A-Za-z0-9]+$';
/** `price_` and at least 8 letters and digits (Stripe's own have 14 or 24); at most Stripe's 255 for any id. */
export const STRIPE_PRICE_ID_LENGTH = { minimum: 14, maximum: 255 } as const;

/** What another Stripe object's id starts with, as a price id is mistaken for a product's (prod_…). */
const OTHER_OBJECT = /^([a-z]{2,12})_[A-Za-z0-9_]/;

/**
 * A Stripe price id as Stripe writes them, with one issue naming what is wrong (translated by its
 * code): another object's id, no `price_`, other characters, or the length.
 */
export function stripePriceIdSchema(columnLimit: number) {
  const maximum = Math.min(columnLimit, STRIPE_PRICE_ID_LENGTH.maximum);
  return z
    .string()
    .superRefine((value, ctx) => {
      const issue = (message: string, params: Record<string, string | number>) => ctx.addIssue({ code: 'custom', message, params });
      if (!value.startsWith('price_')) {
        const other = OTHER_OBJECT.exec(value)?.[1];
        if (other)
          return issue(`This is a Stripe ${other}_… id, not a price: a price id starts with price_`, { code: 'STRIPE_PRICE_ID_OTHER_OBJECT', prefix: other });
        return issue('A Stripe price id starts with price_ (copy it from the price in the Stripe Dashboard)', { code: 'STRIPE_PRICE_ID_PREFIX' });
      }
      if (!/^[A-Za-z0-9]*$/.test(value.slice('price_'.length))) {
        return issue('After price_, a Stripe price id has only letters and digits (no spaces, dashes or underscores)', { code: 'STRIPE_PRICE_ID_CHARACTERS' });
      }
      if (value.length < STRIPE_PRICE_ID_LENGTH.minimum || value.length > maximum) {
        issue(`A Stripe price id has ${STRIPE_PRICE_ID_LENGTH.minimum} to ${maximum} characters; this one has ${value.length}`, {
          code: 'STRIPE_PRICE_ID_LENGTH',
          minimum: STRIPE_PRICE_ID_LENGTH.minimum,
          maximum,
          length: value.length,
        });
      }
    })
    .meta({
      pattern: STRIPE_PRICE_ID_PATTERN,
      minLength: STRIPE_PRICE_ID_LENGTH.minimum,
      maxLength: maximum,
      example: 'price_1MoBy5LkdIwHu7ixZhnattbh',
      description: "A Stripe price id: price_ and letters and digits, as Stripe writes it (Dashboard → the product's price → its id)",
    });
}
