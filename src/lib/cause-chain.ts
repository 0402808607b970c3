/**
 * How far a cause chain is followed. Wrappers nest a few deep (drizzle's DrizzleQueryError around
 * pg's error; fetch's TypeError around undici's around the socket's); past that it is noise.
 */
export const CAUSE_DEPTH = 5;

/**
 * `error` and the errors it was caused by, outermost first: up to `depth` of them, each once (a
 * chain that leads back to an error already seen ends there), stopping at the first cause that
 * is not an Error.
 */
export function causeChain(error: unknown, depth = CAUSE_DEPTH): Error[] {
  const chain: Error[] = [];
  for (let current = error; current instanceof Error && chain.length < depth && !chain.includes(current); current = current.cause) chain.push(current);
  return chain;
}
