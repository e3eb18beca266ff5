/**
 * @module A TCP fault proxy on `node:net` with toxiproxy's toxics (docs/faults.md#memory-faults,
 * "P"; toxiproxy itself cannot be installed here, §6). Put it between lifeline and the fake Zep
 * server to break the byte stream rather than the HTTP answers.
 *
 * Semantics follow toxiproxy: `upstream` is client → server, `downstream` server → client (the
 * default); `toxicity` (0–1, default 1) is rolled once per connection and toxic. Data toxics read
 * the live toxic list on every chunk, so they also hit pooled keep-alive connections.
 *
 * @example
 * await using proxy = await startFaultProxy({ upstreamHost: '127.0.0.1', upstreamPort: zep.port });
 * proxy.addToxic({ name: 'slow', type: 'latency', latencyMs: 300, jitterMs: 50 });
 */
import net from 'node:net';

/** Which way a toxic acts: toward the server, or back to the client. */
export type Stream = 'upstream' | 'downstream';

/** Fields every toxic has. */
interface ToxicBase {
  readonly name: string;
  readonly stream?: Stream;
  /** Share of connections affected, 0–1 (default 1). */
  readonly toxicity?: number;
}

/** One toxic, named as in toxiproxy; times in ms, sizes in bytes. */
export type Toxic = ToxicBase &
  (
    | { readonly type: 'latency'; readonly latencyMs: number; readonly jitterMs?: number }
    | { readonly type: 'bandwidth'; readonly rateKBps: number }
    | { readonly type: 'slow_close'; readonly delayMs: number }
    /** Drops data; closes after `timeoutMs`, or holds the connection forever when 0. */
    | { readonly type: 'timeout'; readonly timeoutMs: number }
    /** TCP RST after `timeoutMs` from connect/first data, or once `afterBytes` have passed. */
    | { readonly type: 'reset_peer'; readonly timeoutMs?: number; readonly afterBytes?: number }
    | {
        readonly type: 'slicer';
        readonly averageSize: number;
        readonly sizeVariation?: number;
        readonly delayMs: number;
      }
    /** Closes the connection once `bytes` have passed. */
    | { readonly type: 'limit_data'; readonly bytes: number }
    /** Accepts and closes at once. */
    | { readonly type: 'down' }
  );

/** Counters since start. */
export interface ProxyStats {
  accepted: number;
  active: number;
  /** Connections closed at once because the proxy or a `down` toxic was down. */
  downed: number;
  bytesUpstream: number;
  bytesDownstream: number;
}

/** A running proxy. */
export interface FaultProxy extends AsyncDisposable {
  readonly port: number;
  readonly url: string;
  addToxic(toxic: Toxic): void;
  removeToxic(name: string): void;
  clear(): void;
  /** While down, new connections are accepted and closed at once; open ones are closed now. */
  setDown(down: boolean): void;
  stats(): ProxyStats;
  stop(): Promise<void>;
}

/** A slice of data to write, not before `atMs` (Date.now() scale). */
interface Piece {
  data: Buffer;
  atMs: number;
}

/** One proxied connection: the two sockets and per-connection toxic state. */
interface Conn {
  client: net.Socket;
  server: net.Socket;
  rolled: Map<string, boolean>;
  /** Bytes admitted per direction (counted when toxics run, before the delayed write). */
  passed: Record<Stream, number>;
  armed: Set<string>;
  /** The write queue of each direction; a side's close waits for its queue to drain. */
  chains: Record<Stream, Promise<void>>;
  timers: Set<ReturnType<typeof setTimeout>>;
}

/** Waits until `atMs`; returns at once (no timer tick) when that time has passed. */
async function sleepUntil(atMs: number): Promise<void> {
  const waitMs = atMs - Date.now();
  if (waitMs > 0) await new Promise<void>((resolve) => setTimeout(resolve, waitMs));
}

function enabled(conn: Conn, toxic: Toxic, random: () => number): boolean {
  let on = conn.rolled.get(toxic.name);
  if (on === undefined) {
    on = random() < (toxic.toxicity ?? 1);
    conn.rolled.set(toxic.name, on);
  }
  return on;
}

function destroy(conn: Conn, reset: boolean) {
  for (const timer of conn.timers) clearTimeout(timer);
  for (const socket of [conn.client, conn.server]) {
    if (socket.destroyed) continue;
    if (reset) socket.resetAndDestroy();
    else socket.destroy();
  }
}

function later(conn: Conn, ms: number, fn: () => void) {
  const timer = setTimeout(() => {
    conn.timers.delete(timer);
    fn();
  }, ms);
  conn.timers.add(timer);
}

/** Arms the timer toxics (timeout > 0, reset_peer with timeoutMs) once per connection. */
function arm(conn: Conn, toxic: Toxic) {
  if (conn.armed.has(toxic.name)) return;
  conn.armed.add(toxic.name);
  if (toxic.type === 'timeout' && toxic.timeoutMs > 0)
    later(conn, toxic.timeoutMs, () => destroy(conn, false));
  if (toxic.type === 'reset_peer' && toxic.timeoutMs !== undefined) {
    later(conn, toxic.timeoutMs, () => destroy(conn, true));
  }
}

/** Splits pieces into chunks of about `size` bytes spaced `gapMs` apart. */
function split(pieces: Piece[], size: () => number, gapMs: (bytes: number) => number): Piece[] {
  const out: Piece[] = [];
  let at = pieces[0]?.atMs ?? Date.now();
  for (const piece of pieces) {
    at = Math.max(at, piece.atMs);
    for (let i = 0; i < piece.data.length; ) {
      const n = Math.max(1, Math.round(size()));
      const data = piece.data.subarray(i, i + n);
      out.push({ data, atMs: at });
      at += gapMs(data.length);
      i += n;
    }
  }
  return out;
}

/** Caps a direction at `limit` bytes admitted; returns the pieces that fit and whether it was hit. */
function cap(conn: Conn, stream: Stream, pieces: Piece[], limit: number) {
  let room = limit - conn.passed[stream];
  const out: Piece[] = [];
  for (const piece of pieces) {
    if (room <= 0) return { pieces: out, hit: true };
    out.push({ ...piece, data: piece.data.subarray(0, room) });
    room -= piece.data.length;
  }
  return { pieces: out, hit: room <= 0 };
}

/** Runs one chunk through the stream's toxics; `end` says how the connection must close after. */
function applyToxics(
  conn: Conn,
  stream: Stream,
  toxics: Toxic[],
  chunk: Buffer,
  random: () => number,
) {
  let pieces: Piece[] = [{ data: chunk, atMs: Date.now() }];
  let end: 'close' | 'reset' | null = null;
  for (const toxic of toxics) {
    arm(conn, toxic);
    switch (toxic.type) {
      case 'latency': {
        const jitter = (toxic.jitterMs ?? 0) * (random() * 2 - 1);
        pieces = pieces.map((p) => ({
          ...p,
          atMs: p.atMs + Math.max(0, toxic.latencyMs + jitter),
        }));
        break;
      }
      case 'bandwidth':
        pieces = split(
          pieces,
          () => Math.max(1, toxic.rateKBps * 102.4),
          (n) => n / toxic.rateKBps / 1.024,
        );
        break;
      case 'slicer': {
        const vary = toxic.sizeVariation ?? 0;
        pieces = split(
          pieces,
          () => toxic.averageSize + vary * (random() * 2 - 1),
          () => toxic.delayMs,
        );
        break;
      }
      case 'timeout':
        return { pieces: [], end };
      case 'limit_data':
      case 'reset_peer': {
        const limit = toxic.type === 'limit_data' ? toxic.bytes : toxic.afterBytes;
        if (limit === undefined) break;
        const capped = cap(conn, stream, pieces, limit);
        pieces = capped.pieces;
        if (capped.hit) end = toxic.type === 'limit_data' ? 'close' : 'reset';
        break;
      }
      default:
        break;
    }
  }
  conn.passed[stream] += pieces.reduce((n, p) => n + p.data.length, 0);
  return { pieces, end };
}

/** State shared by the listener, the pipes and the control API. */
interface ProxyState {
  readonly upstreamHost: string;
  readonly upstreamPort: number;
  readonly random: () => number;
  readonly toxics: Map<string, Toxic>;
  readonly conns: Set<Conn>;
  readonly stats: ProxyStats;
  down: boolean;
}

function liveToxics(ps: ProxyState, conn: Conn, stream: Stream): Toxic[] {
  return [...ps.toxics.values()].filter(
    (t) => (t.stream ?? 'downstream') === stream && enabled(conn, t, ps.random),
  );
}

/** Forwards one direction through its toxics, in order, one chunk after another. */
function pipe(ps: ProxyState, conn: Conn, stream: Stream) {
  const [src, dst] =
    stream === 'upstream' ? [conn.client, conn.server] : [conn.server, conn.client];
  const counter = stream === 'upstream' ? 'bytesUpstream' : 'bytesDownstream';
  src.on('data', (chunk: Buffer) => {
    const { pieces, end } = applyToxics(
      conn,
      stream,
      liveToxics(ps, conn, stream),
      chunk,
      ps.random,
    );
    conn.chains[stream] = conn.chains[stream].then(async () => {
      for (const piece of pieces) {
        await sleepUntil(piece.atMs);
        if (dst.destroyed) return;
        ps.stats[counter] += piece.data.length;
        dst.write(piece.data);
      }
      if (end) destroy(conn, end === 'reset');
    });
  });
  src.on('end', () => {
    conn.chains[stream] = conn.chains[stream].then(async () => {
      const slow = liveToxics(ps, conn, stream).find((t) => t.type === 'slow_close');
      if (slow?.type === 'slow_close') await sleepUntil(Date.now() + slow.delayMs);
      if (!dst.destroyed) dst.end();
    });
  });
}

/** Handles one accepted client: close at once while down, else connect upstream and pipe. */
function accept(ps: ProxyState, client: net.Socket) {
  ps.stats.accepted += 1;
  client.on('error', () => {});
  const downToxic = [...ps.toxics.values()].some(
    (t) => t.type === 'down' && ps.random() < (t.toxicity ?? 1),
  );
  if (ps.down || downToxic) {
    ps.stats.downed += 1;
    client.destroy();
    return;
  }
  const server = net.connect({ host: ps.upstreamHost, port: ps.upstreamPort, noDelay: true });
  client.setNoDelay(true);
  server.on('error', () => {});
  const conn: Conn = {
    client,
    server,
    rolled: new Map(),
    passed: { upstream: 0, downstream: 0 },
    armed: new Set(),
    chains: { upstream: Promise.resolve(), downstream: Promise.resolve() },
    timers: new Set(),
  };
  ps.conns.add(conn);
  ps.stats.active += 1;
  for (const stream of ['upstream', 'downstream'] as const) {
    for (const toxic of liveToxics(ps, conn, stream)) arm(conn, toxic);
    pipe(ps, conn, stream);
  }
  // One side closing ends the other only after what it sent has been written (slow_close, latency).
  const onClose = (stream: Stream) => () =>
    void conn.chains[stream].then(() => {
      if (!ps.conns.delete(conn)) return;
      ps.stats.active -= 1;
      destroy(conn, false);
    });
  client.on('close', onClose('upstream'));
  server.on('close', onClose('downstream'));
}

/**
 * Starts the proxy on 127.0.0.1 (port 0 = pick one), forwarding to the upstream.
 * @throws when the port cannot be bound.
 */
export async function startFaultProxy(opts: {
  upstreamHost: string;
  upstreamPort: number;
  port?: number;
  random?: () => number;
}): Promise<FaultProxy> {
  const ps: ProxyState = {
    upstreamHost: opts.upstreamHost,
    upstreamPort: opts.upstreamPort,
    random: opts.random ?? Math.random,
    toxics: new Map(),
    conns: new Set(),
    stats: { accepted: 0, active: 0, downed: 0, bytesUpstream: 0, bytesDownstream: 0 },
    down: false,
  };
  const server = net.createServer((client) => accept(ps, client));
  await new Promise<void>((resolve) =>
    server.listen({ host: '127.0.0.1', port: opts.port ?? 0 }, resolve),
  );
  const port = (server.address() as net.AddressInfo).port;
  const stop = async () => {
    for (const conn of ps.conns) destroy(conn, false);
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    addToxic: (toxic) => {
      ps.toxics.set(toxic.name, toxic);
      // Like disabling a toxiproxy proxy, `down` also drops the connections already open.
      if (toxic.type !== 'down') return;
      for (const conn of ps.conns) if (enabled(conn, toxic, ps.random)) destroy(conn, false);
    },
    removeToxic: (name) => void ps.toxics.delete(name),
    clear: () => ps.toxics.clear(),
    setDown: (value) => {
      ps.down = value;
      if (value) for (const conn of ps.conns) destroy(conn, false);
    },
    stats: () => ({ ...ps.stats }),
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
