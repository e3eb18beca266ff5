/**
 * @module A fault-injecting fake Zep server for tests (docs/faults.md#memory-faults, "F"), faithful
 * to docs/zep.md: one mode's prefix only, the version's bodies and statuses,
 * request recording, in-flight counts, a delivery log for the no-loss checker, and run-time faults
 * in the style of Envoy's fault filter. It runs on raw `node:net` sockets (see `fake-zep-http.ts`
 * for why).
 *
 * @example
 * await using zep = await startFakeZep({ mode: 'v2-ce', apiKey: 'k' });
 * await zep.setFault({ kind: 'status', status: 503, pathIncludes: '/memory' });
 */
import type { Clock } from '../../src/lib/clock.ts';
import { systemClock } from '../../src/lib/clock.ts';
import type { ActiveFault, Fault, RequestFault } from './fake-zep-faults.ts';
import { delayMsOf, faultCommits, pickFault } from './fake-zep-faults.ts';
import type { WireExchange, WireServer } from './fake-zep-http.ts';
import { formatHead, startWireServer } from './fake-zep-http.ts';
import type { Reply, ZepMode } from './fake-zep-routes.ts';
import {
  checkAuth,
  errorReply,
  FAKE_ZEP_VERSION,
  findRoute,
  isV1,
  prefixOf,
  routeNotFound,
} from './fake-zep-routes.ts';
import type { Delivery } from './fake-zep-store.ts';
import { FakeZepStore } from './fake-zep-store.ts';
import { validateV1Request, validateV2Request } from './zep-validate.ts';

export type { Fault, FaultScope } from './fake-zep-faults.ts';
export type { ZepMode } from './fake-zep-routes.ts';
export type { Delivery } from './fake-zep-store.ts';

/** Options for {@link startFakeZep}. */
export interface FakeZepOptions {
  readonly mode: ZepMode;
  /** v2: the expected `Api-Key` secret. Unset: any non-empty `Api-Key <x>` passes; none is 401. */
  readonly apiKey?: string;
  /** v1: when set, `Authorization: Bearer <v1Bearer>` is required (auth.required: true). */
  readonly v1Bearer?: string;
  /** Port on 127.0.0.1; 0 (default) picks a free one. */
  readonly port?: number;
  /** Read for flap phases and record times (default: the system clock). */
  readonly clock?: Clock;
  /** Source of randomness for `percent` and delay ranges (default Math.random). */
  readonly random?: () => number;
  /** Validate each request against the pinned version's schema and record the problems. */
  readonly validate?: boolean;
  /**
   * v3: Zep Cloud's per-account rate limit. Every answer carries `X-RateLimit-Limit`,
   * `-Remaining` and `-Reset` (seconds until the window resets); past the limit, 429 with
   * `Retry-After`. Unset: headers claim a limit of 1000 that is never reached.
   */
  readonly rateLimit?: { readonly limit: number; readonly windowMs: number };
}

/** One request as the fake saw it. */
export interface RecordedRequest {
  /** 1-based arrival number. */
  readonly index: number;
  readonly method: string;
  readonly path: string;
  readonly query: Record<string, string>;
  /** Lower-case names; `authorization` keeps only its scheme (`Api-Key <redacted>`). */
  readonly headers: Record<string, string>;
  /** Parsed JSON, else the text, else undefined when empty. */
  readonly body: unknown;
  /** Status sent; null when no status line was sent (hang, client gone first). */
  status: number | null;
  /** The fault that acted on this request, if any. */
  fault: Fault['kind'] | null;
  readonly startedAtMs: number;
  endedAtMs: number | null;
  /** Schema problems, when the fake was started with `validate: true`. */
  problems?: string[];
}

/** A hook awaited before each request is answered (e.g. to SIGKILL a child at batch k). */
export type RequestHook = (request: RecordedRequest) => void | Promise<void>;

/** A running fake Zep server. */
export interface FakeZep extends AsyncDisposable {
  readonly url: string;
  readonly port: number;
  readonly mode: ZepMode;
  readonly store: FakeZepStore;
  /** Requests being handled right now, and the most at once since start or the last clear. */
  readonly inFlight: number;
  readonly peakInFlight: number;
  /** TCP connections currently open to the fake. */
  readonly openConnections: number;
  requests(): RecordedRequest[];
  /** Forgets recorded requests and resets the peak in-flight count. */
  clearRequests(): void;
  /** Every message arrival in order, duplicates included. */
  deliveries(): Delivery[];
  /** The first arrival of each UUID, in arrival order. */
  uniqueDelivered(): Delivery[];
  /** Arrivals beyond the first per UUID. */
  duplicates(): number;
  /** Installs a fault (null or `{kind:'none'}` heals); resolves once listening state matches. */
  setFault(fault: Fault | null): Promise<void>;
  heal(): Promise<void>;
  onRequest(hook: RequestHook | null): void;
  stop(): Promise<void>;
}

const MAX_BODY_BYTES = 5 * 1024 * 1024;

function parseRecordedBody(body: Buffer): unknown {
  if (body.length === 0) return undefined;
  const text = body.toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function redactHeaders(headers: Record<string, string>): Record<string, string> {
  const auth = headers.authorization;
  if (auth === undefined) return { ...headers };
  const scheme = auth.split(' ')[0] ?? '';
  return { ...headers, authorization: `${scheme} <redacted>` };
}

/** Answers normally: health, prefix, auth, route (docs/zep.md#health, #fake). */
function answer(
  opts: FakeZepOptions,
  store: FakeZepStore,
  method: string,
  url: URL,
  body: Buffer,
  auth?: string,
): Reply {
  const mode = opts.mode;
  if (url.pathname === '/healthz' && (method === 'GET' || method === 'HEAD')) {
    return { status: 200, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: '.' };
  }
  const prefix = prefixOf(mode);
  if (!url.pathname.startsWith(`${prefix}/`)) return routeNotFound(mode);
  const denied = checkAuth(mode, auth, opts.apiKey, opts.v1Bearer);
  if (denied) return denied;
  if (body.length > MAX_BODY_BYTES) return errorReply(mode, 413, 'request body too large');
  const route = findRoute(mode, method, url.pathname.slice(prefix.length));
  if (route === null) return routeNotFound(mode);
  if (route === 'method-not-allowed') return { status: 405, headers: {}, body: '' };
  return route.handler({ mode, store, params: route.params, query: url.searchParams, body });
}

/** Adds headers every response of the mode carries. */
function finish(mode: ZepMode, reply: Reply): Reply {
  return isV1(mode)
    ? { ...reply, headers: { ...reply.headers, 'x-zep-version': FAKE_ZEP_VERSION } }
    : reply;
}

/** v3's rate limit: the reply (or a 429 in its place) with the X-RateLimit headers. */
function rateLimited(
  options: FakeZepOptions,
  state: FakeState,
  nowMs: number,
  reply: () => Reply,
): Reply {
  if (options.mode !== 'v3') return reply();
  const { limit, windowMs } = options.rateLimit ?? { limit: 1000, windowMs: 60_000 };
  if (nowMs >= state.windowEndsMs) {
    state.windowEndsMs = nowMs + windowMs;
    state.windowUsed = 0;
  }
  const resetS = String(Math.max(1, Math.ceil((state.windowEndsMs - nowMs) / 1000)));
  const over = state.windowUsed >= limit;
  if (!over) state.windowUsed += 1;
  const headers = {
    'x-ratelimit-limit': String(limit),
    'x-ratelimit-remaining': String(Math.max(0, limit - state.windowUsed)),
    'x-ratelimit-reset': resetS,
  };
  const base = over
    ? { ...errorReply('v3', 429, 'rate limit exceeded'), headers: { 'retry-after': resetS } }
    : reply();
  return { ...base, headers: { ...base.headers, ...headers } };
}

/** The reply a `status` fault sends. */
function statusReply(mode: ZepMode, fault: Extract<Fault, { kind: 'status' }>): Reply {
  const base = errorReply(mode, fault.status, `fault injected: ${fault.status}`);
  const body =
    fault.body === undefined
      ? base.body
      : typeof fault.body === 'string'
        ? fault.body
        : JSON.stringify(fault.body);
  return { status: fault.status, headers: { ...base.headers, ...fault.headers }, body };
}

const tick = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Sends `reply` through the fault; resolves with the status sent (null when none). */
async function deliver(
  ex: WireExchange,
  reply: Reply,
  fault: RequestFault | null,
  head: boolean,
  random: () => number,
) {
  const bytes = Buffer.from(reply.body);
  switch (fault?.kind) {
    case 'hang':
      await ex.closedPromise;
      return null;
    case 'delay':
      await Promise.race([tick(delayMsOf(fault, random)), ex.closedPromise]);
      break;
    case 'reset_mid_body': {
      ex.writeRaw(formatHead(reply.status, reply.headers, bytes.length));
      ex.writeRaw(bytes.subarray(0, Math.floor(bytes.length / 2)));
      // Let the head reach the client before the RST, so the reset lands mid-body
      // (docs/faults.md#m8).
      await tick(10);
      ex.reset();
      return reply.status;
    }
    case 'truncated': {
      const declared = Math.max(bytes.length, 100);
      ex.writeRaw(
        formatHead(
          reply.status,
          { ...reply.headers, 'content-length': String(declared) },
          declared,
        ),
      );
      ex.writeRaw(bytes.subarray(0, Math.min(5, bytes.length)));
      ex.end();
      return reply.status;
    }
    case 'invalid_json':
      return send(ex, { ...reply, body: fault.body ?? '{"a":' }, head);
    case 'wrong_shape':
      return send(
        ex,
        {
          ...reply,
          body: typeof fault.body === 'string' ? fault.body : JSON.stringify(fault.body),
        },
        head,
      );
    default:
      break;
  }
  return send(ex, reply, head);
}

function send(ex: WireExchange, reply: Reply, head: boolean): number | null {
  if (ex.closed) return null;
  if (head) ex.writeRaw(formatHead(reply.status, reply.headers, Buffer.byteLength(reply.body)));
  else ex.respond(reply.status, reply.headers, reply.body);
  return reply.status;
}

/** Mutable state shared by the handler and the control API. */
interface FakeState {
  records: RecordedRequest[];
  count: number;
  inFlight: number;
  peak: number;
  active: ActiveFault | null;
  hook: RequestHook | null;
  flapTimer: ReturnType<typeof setTimeout> | null;
  /** v3 rate limit: requests counted in the current window, and when it ends (clock ms). */
  windowUsed: number;
  windowEndsMs: number;
}

function newRecord(state: FakeState, ex: WireExchange, url: URL, clock: Clock): RecordedRequest {
  const req = ex.request;
  return {
    index: ++state.count,
    method: req.method,
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    headers: redactHeaders(req.headers),
    body: parseRecordedBody(req.body),
    status: null,
    fault: null,
    startedAtMs: clock.monoMs(),
    endedAtMs: null,
  };
}

/** Builds the per-request handler: record, hook, pick a fault, answer, deliver. */
function createHandler(options: FakeZepOptions, store: FakeZepStore, state: FakeState) {
  const clock = options.clock ?? systemClock;
  const random = options.random ?? Math.random;
  return async (ex: WireExchange) => {
    const req = ex.request;
    const url = new URL(req.target, 'http://fake');
    const record = newRecord(state, ex, url, clock);
    // v3 has no schema file here: the official SDK is its judge (test/memory/zep/sdk.test.ts).
    if (options.validate && options.mode !== 'v3') {
      const validate = isV1(options.mode) ? validateV1Request : validateV2Request;
      record.problems = validate(req.method, req.target, record.body);
    }
    state.records.push(record);
    state.inFlight += 1;
    state.peak = Math.max(state.peak, state.inFlight);
    try {
      if (state.hook) await state.hook(record);
      const fault = pickFault(state.active, record, clock, random);
      record.fault = fault?.kind ?? null;
      const reply = faultCommits(fault)
        ? rateLimited(options, state, clock.monoMs(), () =>
            answer(options, store, req.method, url, req.body, req.headers.authorization),
          )
        : { status: 200, headers: {}, body: '' };
      const final = finish(
        options.mode,
        fault?.kind === 'status' ? statusReply(options.mode, fault) : reply,
      );
      record.status = await deliver(ex, final, fault, req.method === 'HEAD', random);
    } finally {
      state.inFlight -= 1;
      record.endedAtMs = clock.monoMs();
    }
  };
}

/**
 * Installs faults and runs the `refuse` flap schedule. Each install bumps a generation number so
 * a timer callback from an older schedule (or one still closing the listener) never acts later.
 */
function createFaultControl(wire: WireServer, state: FakeState, clock: Clock) {
  let generation = 0;
  let stopped = false;
  const clearFlap = () => {
    generation += 1;
    if (state.flapTimer) clearTimeout(state.flapTimer);
    state.flapTimer = null;
  };
  const runRefuseFlap = (upMs: number, downMs: number) => {
    const mine = generation;
    const after = (ms: number, step: () => Promise<void>) => {
      state.flapTimer = setTimeout(async () => {
        if (generation === mine) await step();
      }, ms);
    };
    const cycle = () =>
      after(upMs, async () => {
        await wire.close();
        after(downMs, async () => {
          await wire.reopen();
          if (generation === mine) cycle();
          // A stop (or a refuse) that raced this reopen wins: close again.
          else if (stopped || state.active?.fault.kind === 'refuse') await wire.close();
        });
      });
    cycle();
  };
  const setFault = async (fault: Fault | null) => {
    clearFlap();
    state.active =
      fault && fault.kind !== 'none' ? { fault, setAtMs: clock.monoMs(), matched: 0 } : null;
    if (fault?.kind === 'refuse') return wire.close();
    await wire.reopen();
    if (fault?.kind === 'flap' && fault.downFault.kind === 'refuse') {
      runRefuseFlap(fault.upMs, fault.downMs);
    }
  };
  const stop = async () => {
    stopped = true;
    clearFlap();
    state.active = null;
    await wire.close();
  };
  return { setFault, stop };
}

/**
 * Starts a fake Zep server on 127.0.0.1 serving only `options.mode`'s prefix.
 * @throws when the port cannot be bound.
 */
export async function startFakeZep(options: FakeZepOptions): Promise<FakeZep> {
  const clock = options.clock ?? systemClock;
  const store = new FakeZepStore();
  const state: FakeState = {
    records: [],
    count: 0,
    inFlight: 0,
    peak: 0,
    active: null,
    hook: null,
    flapTimer: null,
    windowUsed: 0,
    windowEndsMs: Number.NEGATIVE_INFINITY,
  };
  const wire: WireServer = await startWireServer({
    host: '127.0.0.1',
    port: options.port ?? 0,
    maxHeaderBytes: 64 * 1024,
    maxBodyBytes: MAX_BODY_BYTES + 1024 * 1024,
    handler: createHandler(options, store, state),
  });
  const { setFault, stop } = createFaultControl(wire, state, clock);
  const firstArrivals = () => {
    const seen = new Set<string>();
    return store.deliveryLog.filter((d) => !seen.has(d.uuid) && seen.add(d.uuid));
  };
  return {
    url: `http://127.0.0.1:${wire.port}`,
    port: wire.port,
    mode: options.mode,
    store,
    get inFlight() {
      return state.inFlight;
    },
    get peakInFlight() {
      return state.peak;
    },
    get openConnections() {
      return wire.openConnections;
    },
    requests: () => [...state.records],
    clearRequests: () => {
      state.records = [];
      state.peak = state.inFlight;
    },
    deliveries: () => [...store.deliveryLog],
    uniqueDelivered: firstArrivals,
    duplicates: () => store.deliveryLog.length - firstArrivals().length,
    setFault,
    heal: () => setFault(null),
    onRequest: (hook) => {
      state.hook = hook;
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
