/**
 * Exact money. Amounts are integer minor units (cents) in storage and arithmetic, decimal strings
 * with two places on the wire ("207.50"), and never pass through floating point.
 */

/** A non-negative amount with at most two decimals and 12 integer digits (the bigint columns hold far more). */
export const MONEY_PATTERN = /^(?:0|[1-9]\d{0,11})(?:\.\d{1,2})?$/;

/** A percentage from 0 to 100 with at most two decimals. */
export const RATE_PATTERN = /^(?:100(?:\.00?)?|[1-9]?\d(?:\.\d{1,2})?)$/;

/** "207.5" -> 20750, for a string already known to be a plain decimal. */
function toHundredths(text: string): number {
  const [whole = '', fraction = ''] = text.split('.');
  return Number(whole) * 100 + Number(fraction.padEnd(2, '0'));
}

/** "207.5" or "207.50" -> 20750. Undefined for anything MONEY_PATTERN refuses. */
export function parseMoney(text: string): number | undefined {
  return MONEY_PATTERN.test(text) ? toHundredths(text) : undefined;
}

/** 20750 -> "207.50". */
export function formatMoney(minor: number): string {
  const cents = BigInt(minor);
  const sign = cents < 0n ? '-' : '';
  const abs = cents < 0n ? -cents : cents;
  return `${sign}${abs / 100n}.${(abs % 100n).toString().padStart(2, '0')}`;
}

/** A VAT rate such as "20.00" -> 2000 basis points (hundredths of a percent). Undefined for anything RATE_PATTERN refuses. */
export function parseRate(text: string): number | undefined {
  return RATE_PATTERN.test(text) ? toHundredths(text) : undefined;
}

export const formatRate = formatMoney;

/** gross = net × (1 + vat/100), rounded half-up to the cent, in integer arithmetic. */
export function grossOf(netMinor: number, vatBasisPoints: number): number {
  const scaled = BigInt(netMinor) * BigInt(10_000 + vatBasisPoints);
  return Number((scaled * 2n + 10_000n) / 20_000n);
}

/** The JSON number for a stored amount, as the decimal string reads ("207.50" -> 207.5). */
export const moneyNumber = (minor: number): number => Number(formatMoney(minor));
