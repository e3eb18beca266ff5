/**
 * @module The bearer `auth.api_key` check of the server-to-server and admin API
 * (docs/design.md#http-api; docs/faults.md#z5): no key configured → 503 (the routes are disabled),
 * a missing or wrong key → 401. The comparison is constant-time over SHA-256 digests, so neither
 * the key's bytes nor its length leak through timing.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { HttpError } from './errors.ts';

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** True when `presented` equals `expected`, in time independent of where they differ. */
function keysMatch(presented: string, expected: string): boolean {
  return timingSafeEqual(digest(presented), digest(expected));
}

/**
 * Checks an `Authorization` header against the configured key.
 * @throws HttpError 503 `api_disabled` when no key is configured, 401 `unauthorized` otherwise.
 */
export function requireApiKey(authorization: string | null | undefined, key: string | undefined) {
  if (key === undefined || key === '') {
    throw new HttpError(
      503,
      'api_disabled',
      'the HTTP API is disabled: set auth.api_key (LIFELINE_AUTH_API_KEY) and restart',
    );
  }
  const presented = BEARER.exec(authorization ?? '')?.[1];
  if (presented === undefined || !keysMatch(presented, key)) {
    throw new HttpError(401, 'unauthorized', 'missing or wrong bearer key');
  }
}
