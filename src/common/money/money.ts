/**
 * Exact money. Amounts are integer minor units (cents) in storage and arithmetic, decimal strings
 * with two places on the wire ("207.50"), and never pass through floating point.
 */

const DECIMAL = /^(0|[1-9]\d{0,11})(?:\.(\d{1,2}))?$/;

/** "207.5" or "207.50" -> 20750. Undefined for anything that is not a non-negative decimal with at most two places. */
export function parseMoney(text: string): number | undefined {
  const match = DECIMAL.exec(text);
  if (!match) return undefined;
  return Number(match[1]) * 100 + Number((match[2] ?? '').padEnd(2, '0'));
}

/** 20750 -> "207.50". */
export function formatMoney(minor: number): string {
  const cents = BigInt(minor);
  const sign = cents < 0n ? '-' : '';
  const abs = cents < 0n ? -cents : cents;
  return `${sign}${abs / 100n}.${(abs % 100n).toString().padStart(2, '0')}`;
}

/** A VAT rate such as "20.00" -> 2000 basis points (hundredths of a percent). */
export function parseRate(text: string): number | undefined {
  const match = /^(0|[1-9]\d{0,2})(?:\.(\d{1,2}))?$/.exec(text);
  if (!match) return undefined;
  const basisPoints = Number(match[1]) * 100 + Number((match[2] ?? '').padEnd(2, '0'));
  return basisPoints <= 10_000 ? basisPoints : undefined;
}

export const formatRate = formatMoney;

/** gross = net × (1 + vat/100), rounded half-up to the cent, in integer arithmetic. */
export function grossOf(netMinor: number, vatBasisPoints: number): number {
  const scaled = BigInt(netMinor) * BigInt(10_000 + vatBasisPoints);
  return Number((scaled * 2n + 10_000n) / 20_000n);
}

/** The JSON number for a stored amount, as the decimal string reads ("207.50" -> 207.5). */
export const moneyNumber = (minor: number): number => Number(formatMoney(minor));
