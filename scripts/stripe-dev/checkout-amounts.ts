/** A Stripe Price the fake knows: enough to total a session that names it. */
export interface FakePrice {
  id: string;
  /** In the currency's minor unit (cents). */
  unitAmount: number;
  /** Lowercase, as Stripe writes it. */
  currency: string;
  recurring?: { interval: 'month' | 'year' };
}

/**
 * `amount_total` and `currency` of a session, as Stripe computes them from its line items
 * (`line_items[0][price]` or `line_items[0][price_data][unit_amount]`, times the quantity); null
 * where a line names a price the fake does not know.
 */
export function checkoutAmounts(params: Record<string, string>, prices: ReadonlyMap<string, FakePrice>) {
  let total: number | null = 0;
  let currency: string | null = null;
  for (let index = 0; `line_items[${index}][quantity]` in params || `line_items[${index}][price]` in params; index++) {
    const line = (field: string) => params[`line_items[${index}]${field}`];
    const quantity = Number(line('[quantity]') ?? 1);
    const price = line('[price]') !== undefined ? prices.get(line('[price]')!) : undefined;
    const unitAmount = price ? price.unitAmount : line('[price_data][unit_amount]') !== undefined ? Number(line('[price_data][unit_amount]')) : undefined;
    currency ??= price?.currency ?? line('[price_data][currency]') ?? null;
    total = total === null || unitAmount === undefined ? null : total + unitAmount * quantity;
  }
  return { amount_total: total, currency };
}
