/**
 * @module The `limit` of a memory search: one rule for `memory.query` (protocol.ts reads its bounds)
 * and the HTTP search route (docs/protocol.md §4.2, docs/decisions.md).
 */

/** The `limit` of a memory search, on the WebSocket (`memory.query`) and over HTTP alike. */
export const SEARCH_LIMIT = { minimum: 1, maximum: 50, default: 10 } as const;
/** How a bad search `limit` is described to the client, after the parameter's name. */
export const SEARCH_LIMIT_RULE = `expected an integer ${SEARCH_LIMIT.minimum}..${SEARCH_LIMIT.maximum}`;
/** The options of the `memory.query` schema's `limit`. */
export const SEARCH_LIMIT_SCHEMA = {
  minimum: SEARCH_LIMIT.minimum,
  maximum: SEARCH_LIMIT.maximum,
  errorMessage: SEARCH_LIMIT_RULE,
};

/**
 * A search `limit` given as text (an HTTP query parameter): decimal digits only, within
 * {@link SEARCH_LIMIT}; the default when absent. Returns the number, or undefined when it is bad.
 */
export function parseSearchLimit(text: string | undefined): number | undefined {
  if (text === undefined) return SEARCH_LIMIT.default;
  if (!/^\d{1,3}$/.test(text)) return undefined;
  const limit = Number(text);
  return limit >= SEARCH_LIMIT.minimum && limit <= SEARCH_LIMIT.maximum ? limit : undefined;
}
