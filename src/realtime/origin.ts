/**
 * @module The Origin rule for `GET /ws` (docs/design.md#websocket, #origin-rule; docs/faults.md#o1
 * (O1–O4)). A browser's Origin must equal, character for character, one of the origins the daemon
 * is configured for. The request's own Host header is never consulted: with DNS rebinding an
 * attacker controls it.
 */

/** What the rule needs from config (`server.*`). */
export interface OriginOptions {
  /** `server.allowed_origins`: when non-empty, these (and `publicOrigins`) are the only ones. */
  allowedOrigins: readonly string[];
  /** `server.host`, the configured bind name. */
  host: string;
  /** The port the daemon listens on (the bound port when configured as 0). */
  port: number;
  /** `server.public_origins`: where the daemon is reached behind a proxy. */
  publicOrigins: readonly string[];
}

/** A prepared rule: call it with the `Origin` header of each upgrade. */
export type OriginPolicy = (origin: string | null | undefined) => boolean;

/** Hosts the daemon always answers to on its own port when no allowlist is configured. */
const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'];

/**
 * Builds the set of allowed origins once, so each upgrade costs one set lookup.
 * No Origin header (a client that is not a browser) is allowed; `null`, an empty value and any
 * near miss (other scheme, port, case, suffix) are refused.
 */
export function createOriginPolicy(options: OriginOptions): OriginPolicy {
  const allowed = new Set<string>(options.publicOrigins.map(normalizeConfigured));
  const listed = options.allowedOrigins.map(normalizeConfigured);
  for (const origin of listed.length > 0 ? listed : defaultOrigins(options.host, options.port)) {
    allowed.add(origin);
  }
  return (origin) => {
    if (origin === undefined || origin === null) return true;
    return origin !== 'null' && allowed.has(origin);
  };
}

/**
 * `http(s)://name:port` for the configured host and the loopback names
 * (docs/design.md#origin-rule).
 */
export function defaultOrigins(host: string, port: number): string[] {
  const names = new Set([hostForUrl(host), ...LOOPBACK_NAMES]);
  const origins: string[] = [];
  for (const name of names) {
    for (const scheme of ['http', 'https']) {
      origins.push(`${scheme}://${name}:${port}`);
      // A browser leaves the scheme's default port out of the Origin it sends.
      if ((scheme === 'http' && port === 80) || (scheme === 'https' && port === 443)) {
        origins.push(`${scheme}://${name}`);
      }
    }
  }
  return origins;
}

/** Lower-case, IPv6 literals in brackets, as a browser serialises the host of an Origin. */
function hostForUrl(host: string): string {
  const lower = host.toLowerCase();
  return lower.includes(':') && !lower.startsWith('[') ? `[${lower}]` : lower;
}

/**
 * Configured entries are written by people: accept `HTTPS://App.Example.com/` as the origin a
 * browser would send. Incoming Origins are never normalised.
 */
function normalizeConfigured(origin: string): string {
  const trimmed = origin.trim().replace(/\/+$/, '');
  const match = /^([A-Za-z][A-Za-z0-9+.-]*:\/\/)([^/]*)$/.exec(trimmed);
  return match === null ? trimmed : `${match[1]?.toLowerCase()}${match[2]?.toLowerCase()}`;
}
