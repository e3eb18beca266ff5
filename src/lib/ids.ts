/**
 * @module Identifier rules (docs/design.md#ids-and-limits).
 */

/** User and thread ids: `[A-Za-z0-9._-]{1,128}`. */
export const ID_PATTERN = /^[A-Za-z0-9._-]{1,128}$/;

/** Message ids: RFC 4122 UUIDs in the canonical 8-4-4-4-12 hex form. */
export const UUID_PATTERN =
  /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** True when `value` is a valid user or thread id. */
export function isValidId(value: unknown): value is string {
  return typeof value === 'string' && ID_PATTERN.test(value);
}

/** True when `value` is a canonical UUID. */
export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID_PATTERN.test(value);
}
