/**
 * @module The preflight memory check (docs/design.md#preflight, #wrong-api-version,
 * #preflight-open-circuit; docs/zep.md#health). For Zep: one `GET /healthz` and ONE authenticated
 * probe on the pinned version, no loop and no fallback. A route-404 names `memory.zep.api_version`;
 * an unreachable server names `memory.zep.base_url`. While the persisted circuit is open it sends
 * nothing and warns "open until …", so a crash-restart loop cannot turn preflight into one request
 * per restart (docs/faults.md#m13). Problems are warnings; `--strict` makes them failures through
 * the check's `warnUnlessStrict` flag.
 */
import { checkBreakerSnapshot } from '../breaker/state.ts';
import type { Check, CheckOutcome } from '../preflight/check.ts';
import { pass, warn } from '../preflight/check.ts';
import type { BreakerStateStore } from '../storage/store.ts';
import type { MemoryOutcome, Misconfigured } from './client.ts';
import type { ZepBackend } from './zep/backend.ts';
import type { ZepApiVersion } from './zep/dialect.ts';

/** Options for {@link memoryCheck}. */
interface MemoryCheckOptions {
  /** null for the local backend. */
  zep: ZepBackend | null;
  /** Where the persisted circuit state is read from. */
  store: BreakerStateStore;
  /** Wall clock for comparing the persisted probe time. */
  wallMs?: () => number;
}

/** The check's name in reports. */
const MEMORY_CHECK_NAME = 'memory';

/** Builds the memory backend check. */
export function memoryCheck(options: MemoryCheckOptions): Check {
  return {
    name: MEMORY_CHECK_NAME,
    warnUnlessStrict: true,
    run: async (ctx) => {
      if (options.zep === null) return pass('local memory (SQLite FTS5), no network needed');
      const open = await persistedOpenUntil(options, options.zep.name);
      if (open !== null) {
        return warn(
          `memory circuit is open until ${new Date(open).toISOString()}; not contacted`,
          'wait for the probe time, or close it with the admin API once the memory service is fixed',
        );
      }
      return checkZep(options.zep, ctx.signal);
    },
  };
}

async function persistedOpenUntil(
  options: MemoryCheckOptions,
  backend: string,
): Promise<number | null> {
  let stored: unknown;
  try {
    stored = await options.store.loadBreakerState(backend);
  } catch {
    // The database check reports storage problems; here an unreadable row means "not open".
    return null;
  }
  if (stored === null || checkBreakerSnapshot(stored).length > 0) return null;
  const snapshot = stored as { state: string; nextProbeAtWallMs: number | null };
  const nowMs = (options.wallMs ?? Date.now)();
  if (snapshot.state !== 'open' || snapshot.nextProbeAtWallMs === null) return null;
  return snapshot.nextProbeAtWallMs > nowMs ? snapshot.nextProbeAtWallMs : null;
}

async function checkZep(zep: ZepBackend, signal: AbortSignal): Promise<CheckOutcome> {
  const url = zep.http.url;
  const version = zep.dialect.version;
  const healthz = await zep.healthz(signal);
  if (healthz.kind !== 'response') {
    return warn(
      `memory service at ${url} is unreachable (${healthz.detail})`,
      `check memory.zep.base_url (${url}) and that Zep is running and reachable from this host`,
    );
  }
  const probe = await zep.health(signal);
  const zep0x = typeof healthz.response.zepVersion === 'string';
  return describeProbe(probe, { url, version, probePath: zep.dialect.probe.path, zep0x });
}

/** What the check knows about the server besides the probe's outcome. */
interface ProbeContext {
  url: string;
  version: ZepApiVersion;
  probePath: string;
  /** /healthz carried X-Zep-Version, which only Zep 0.x sends (docs/zep.md#health). */
  zep0x: boolean;
}

function describeProbe(probe: MemoryOutcome<void>, probeCtx: ProbeContext): CheckOutcome {
  const { url, version } = probeCtx;
  switch (probe.kind) {
    case 'answer':
      return pass(`zep ${version} at ${url} answers the authenticated probe`);
    case 'misconfigured':
      return describeMisconfigured(probe, probeCtx);
    case 'failure':
      return warn(
        `memory service at ${url} failed the ${version} probe (${probe.detail})`,
        'the daemon starts in WRITE_ONLY mode and retries; check the Zep server logs',
      );
    case 'rejected':
      return warn(
        `memory service at ${url} refused the ${version} probe (HTTP ${probe.status} ${probe.reason})`,
        `check that memory.zep.api_version = "${version}" matches the server`,
      );
  }
}

/**
 * The fix for a route-404, naming the version the server speaks as far as its answers tell
 * (docs/design.md#wrong-api-version): an X-Zep-Version header or an HTML 404 page is Zep 0.x (v1);
 * the Go router's `404 page not found` without that header is CE 1.x (v2) or Zep Cloud (v3).
 */
function routeNotFoundFix(version: ZepApiVersion, zep0x: boolean): string {
  const orBaseUrl = 'or fix memory.zep.base_url if it points at the wrong server';
  if (zep0x) {
    return version === 'v1'
      ? `the server is Zep 0.x but has no such route: fix memory.zep.base_url (scheme, host and port, no path)`
      : `set memory.zep.api_version = "v1": the server is Zep 0.x, which speaks v1 only; ${orBaseUrl}`;
  }
  if (version === 'v1')
    return `set memory.zep.api_version = "v2" for Zep CE 1.x or "v3" for Zep Cloud: the server has no /api/v1; ${orBaseUrl}`;
  if (version === 'v2')
    return `set memory.zep.api_version = "v3" if this is Zep Cloud (its sessions routes are gone; v3 is the threads API); ${orBaseUrl}`;
  return `set memory.zep.api_version = "v2": a server under /api/v2 without /projects/info is Zep CE 1.x, which speaks v2; ${orBaseUrl}`;
}

function describeMisconfigured(probe: Misconfigured, probeCtx: ProbeContext): CheckOutcome {
  const { url, version } = probeCtx;
  if (probe.reason === 'route_404') {
    return warn(
      `memory.zep.api_version = "${version}" but ${url} has no ${version} routes (GET ${probeCtx.probePath} answered a route-404)`,
      routeNotFoundFix(version, probeCtx.zep0x || probe.routeBody === 'html'),
    );
  }
  if (probe.reason === 'unauthorized') {
    return warn(
      `memory service at ${url} rejected the credentials (HTTP ${probe.status})`,
      version === 'v1'
        ? 'set memory.zep.api_key to a JWT signed with the server ZEP_AUTH_SECRET (or unset it if auth is off)'
        : 'set memory.zep.api_key to the Zep API key (sent as "Api-Key <key>")',
    );
  }
  return warn(
    `memory service at ${url} answered with a redirect (HTTP ${probe.status})`,
    'set memory.zep.base_url to the final URL (scheme, host and port) without a path',
  );
}
