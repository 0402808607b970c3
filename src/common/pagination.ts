import { z } from 'zod';

/**
 * Cursor pagination over time-sortable ids: `cursor` is the last id of the previous page. Strict,
 * as bodies are: an unknown (say, misspelt) parameter is refused rather than silently ignored.
 */
export const paginationQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(100).optional(),
});

export const pageSchema = <T extends z.ZodType>(item: T, id: string) =>
  z
    .object({
      items: z.array(item),
      nextCursor: z.string().nullable().meta({ description: 'Pass as `cursor` for the next page; null on the last page.' }),
    })
    .meta({ id });

/** Given `limit + 1` rows, the page and the cursor of the next one. */
export function toPage<T extends { id: string }>(rows: T[], limit: number): { items: T[]; nextCursor: string | null } {
  const items = rows.slice(0, limit);
  return { items, nextCursor: rows.length > limit ? (items.at(-1)?.id ?? null) : null };
}

/** A LIKE pattern matching `text` literally anywhere: %, _ and \ in it are escaped. */
export const containsPattern = (text: string) => `%${text.replace(/[\\%_]/g, (char) => `\\${char}`)}%`;
