/**
 * @module Long content sent as parts, never truncated (docs/design.md#content-rules): a message
 * over the version's content limit goes as consecutive parts, in order, each within the limit and
 * cut only between code points, so a surrogate pair is never split and the parts concatenate back
 * to the original exactly. Part 1 keeps the message's own UUID; later parts get stable derived
 * UUIDs, so a redelivered part is deduplicated like any message.
 */
import { createHash } from 'node:crypto';

/** The role types Zep v2 and v3 accept; any other role goes as `norole`. */
export const ZEP_ROLES: ReadonlySet<string> = new Set([
  'norole',
  'system',
  'assistant',
  'user',
  'function',
  'tool',
]);

/** How a server counts a content limit: UTF-8 bytes (v2, safe either way) or code points (v3). */
type ContentUnit = 'utf8_bytes' | 'code_points';

function sizeOf(char: string, unit: ContentUnit): number {
  return unit === 'code_points' ? 1 : Buffer.byteLength(char, 'utf8');
}

/** Splits content into parts of at most `max` units, never inside a code point. */
export function splitContent(
  content: string,
  max: number,
  unit: ContentUnit = 'utf8_bytes',
): string[] {
  if (!(max >= 4)) throw new RangeError(`a content limit must be at least 4, got ${max}`);
  const parts: string[] = [];
  let current = '';
  let size = 0;
  // for…of walks code points, so a surrogate pair is one step (docs/design.md#content-rules).
  for (const char of content) {
    const charSize = sizeOf(char, unit);
    if (size + charSize > max) {
      parts.push(current);
      current = '';
      size = 0;
    }
    current += char;
    size += charSize;
  }
  if (current !== '' || parts.length === 0) parts.push(current);
  return parts;
}

/** A stable UUID for part `index` (≥ 1) of a message, so a redelivered part is deduplicated too. */
export function partUuid(uuid: string, index: number): string {
  const hex = createHash('sha1')
    .update(`lifeline-part:${uuid.toLowerCase()}:${index}`)
    .digest('hex');
  const variant = ((Number.parseInt(hex[16] ?? '0', 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
