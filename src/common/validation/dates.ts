import { z } from 'zod';

const EARLIEST = Date.UTC(1970, 0, 1);
const LATEST = Date.UTC(10_000, 0, 1);

/**
 * An ISO 8601 date-time with offset, between 1970 and 9999 (Postgres and JS agree on those). JSON
 * Schema has no bounds for a date-time: the spec says them in the description (a field's own
 * description repeats them).
 */
export const isoDateTimeInput = z.iso
  .datetime({ offset: true })
  .refine((value) => {
    const time = Date.parse(value);
    return time >= EARLIEST && time < LATEST;
  }, 'must be a date-time between 1970 and 9999')
  .meta({ description: 'An ISO 8601 date-time with offset, between 1970 and 9999.' });
