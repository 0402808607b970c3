/** A timestamp as it travels on the wire: ISO 8601 in UTC. */
export const iso = (date: Date): string => date.toISOString();

/** The same for a nullable column: null stays null. */
export const isoOrNull = (date: Date | null | undefined): string | null => date?.toISOString() ?? null;
