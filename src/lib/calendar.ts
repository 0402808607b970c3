/**
 * `months` calendar months after `start`, in UTC, clamped to the end of a shorter month: Jan 31 +
 * 1 month is the last day of February, and Feb 29 + 1 year is Feb 28. Subscription periods and
 * metering's MONTHLY and YEARLY quota windows both step by it, so it lives here once.
 */
export function addMonths(start: Date, months: number): Date {
  const year = start.getUTCFullYear();
  const month = start.getUTCMonth() + months;
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  const result = new Date(start);
  result.setUTCFullYear(year, month, Math.min(start.getUTCDate(), lastDay));
  return result;
}
