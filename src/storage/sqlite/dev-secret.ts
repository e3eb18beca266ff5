/**
 * @module The development signing key (docs/design.md#configuration `auth.*`): when no key is
 * configured, a random HS256 secret is generated once and kept in the database, so tokens minted by
 * `lifeline token` stay valid across restarts. It lives in the `meta` table and is never logged.
 */
import { randomBytes } from 'node:crypto';
import type { SqliteHandle } from './open.ts';

const KEY = 'dev_jwt_secret';

/** Returns the stored development secret, creating it (32 random bytes, base64url) on first use. */
export function devJwtSecret(handle: SqliteHandle): string {
  const read = () =>
    handle.sqlite.query('SELECT value FROM meta WHERE key = ?').get(KEY) as {
      value: string;
    } | null;
  const existing = read();
  if (existing) return existing.value;
  handle.sqlite
    .query('INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)')
    .run(KEY, randomBytes(32).toString('base64url'));
  const created = read();
  if (!created) throw new Error('the development secret could not be stored');
  return created.value;
}
