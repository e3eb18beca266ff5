/**
 * @module Text rules shared by every boundary (docs/design.md#content-rules, #ids-and-limits).
 */

/**
 * Characters that render as nothing and so cannot make content non-empty
 * (docs/design.md#content-rules).
 */
const INVISIBLE = /[\u200B-\u200D\u2060\uFEFF]/g;
const WHITE_SPACE = /\p{White_Space}/gu;

/** True when `content` is empty after removing Unicode white space and invisible characters. */
export function isBlank(content: string): boolean {
  return content.replace(INVISIBLE, '').replace(WHITE_SPACE, '').length === 0;
}

/** True when the string holds a lone UTF-16 surrogate (not representable in UTF-8). */
export function hasLoneSurrogate(value: string): boolean {
  return !value.isWellFormed();
}

/** True when the string holds U+0000. */
export function hasNul(value: string): boolean {
  return value.includes('\u0000');
}

/** Size of the string in UTF-8 bytes, the unit of every size limit. */
export function utf8Bytes(value: string): number {
  return Buffer.byteLength(value, 'utf8');
}

/**
 * Depth of nested arrays and objects in a JSON value, stopping early once `limit` is passed, so
 * a hostile 32,000-deep value costs at most `limit` frames of recursion.
 */
export function nestingDepth(value: unknown, limit: number): number {
  return depthOf(value, 0, limit);
}

function depthOf(value: unknown, depth: number, limit: number): number {
  if (value === null || typeof value !== 'object') return depth;
  const here = depth + 1;
  if (here > limit) return here;
  let deepest = here;
  const children = Array.isArray(value) ? value : Object.values(value);
  for (const child of children) {
    deepest = Math.max(deepest, depthOf(child, here, limit));
    if (deepest > limit) return deepest;
  }
  return deepest;
}

/** Finds the first string anywhere inside a JSON value that fails `bad`; returns its path. */
export function findBadString(
  value: unknown,
  bad: (text: string) => boolean,
  path = '',
): string | undefined {
  if (typeof value === 'string') return bad(value) ? path || '/' : undefined;
  if (value === null || typeof value !== 'object') return undefined;
  for (const [key, child] of Object.entries(value)) {
    if (bad(key)) return `${path}/${key}`;
    const found = findBadString(child, bad, `${path}/${key}`);
    if (found !== undefined) return found;
  }
  return undefined;
}
