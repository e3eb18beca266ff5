/**
 * @module A minimal HTTP/1.1 server on raw `node:net` sockets, used by the fake Zep server.
 *
 * Why not `Bun.serve` or `node:http`: the fault table (docs/faults.md#memory-faults, #m7 (M7–M9),
 * #m15) needs control that those servers hide — writing a status line and half a body and then
 * sending a TCP RST, promising a `Content-Length` and sending a FIN early, counting open sockets
 * exactly, holding a socket open forever, and refusing connections for real by closing the listener
 * and reopening it on the same port. A raw socket gives all of that in about 200 lines. It speaks
 * enough HTTP/1.1 for fetch: keep-alive, `Content-Length` and chunked request bodies, one request
 * at a time per connection.
 */
import net from 'node:net';

/** One parsed request as it came off the wire. */
export interface WireRequest {
  readonly method: string;
  /** Request target as sent: path plus optional `?query`. */
  readonly target: string;
  /** Header names lower-cased; repeated headers joined with `, `. */
  readonly headers: Record<string, string>;
  readonly body: Buffer;
}

/** Lets a handler answer one request, or misbehave at the socket level. */
export interface WireExchange {
  readonly request: WireRequest;
  /** Writes a complete response. Ignored if the socket is already gone. */
  respond(status: number, headers: Record<string, string>, body: string | Buffer): void;
  /** Writes raw bytes (a hand-made partial response). */
  writeRaw(bytes: string | Buffer): void;
  /** Sends a FIN after what was written. */
  end(): void;
  /** Sends a TCP RST (`socket.resetAndDestroy()`). */
  reset(): void;
  /** True once the peer or a fault has closed the socket. */
  readonly closed: boolean;
  /** Resolves when the socket closes (for a hung request to end its record). */
  readonly closedPromise: Promise<void>;
}

/** Handles one exchange; the server waits for it before reading the next request on the socket. */
export type WireHandler = (exchange: WireExchange) => Promise<void>;

/** Options for {@link startWireServer}. */
export interface WireServerOptions {
  readonly host: string;
  readonly port: number;
  readonly maxHeaderBytes: number;
  readonly maxBodyBytes: number;
  readonly handler: WireHandler;
}

/** A listening raw HTTP server that can stop and restart on the same port. */
export interface WireServer {
  readonly port: number;
  /** Sockets currently open (accepted and not yet closed). */
  readonly openConnections: number;
  /** Closes the listener and destroys every open socket; later connects get ECONNREFUSED. */
  close(): Promise<void>;
  /** Listens again on the same port after {@link close}. */
  reopen(): Promise<void>;
  readonly listening: boolean;
}

const REASONS: Record<number, string> = {
  200: 'OK',
  201: 'Created',
  400: 'Bad Request',
  401: 'Unauthorized',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Request Entity Too Large',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/** Formats a status line plus headers, adding Content-Length and Date unless given. */
export function formatHead(status: number, headers: Record<string, string>, bodyBytes: number) {
  const all: Record<string, string> = { date: new Date().toUTCString(), ...headers };
  if (!Object.keys(all).some((k) => k.toLowerCase() === 'content-length')) {
    all['content-length'] = String(bodyBytes);
  }
  const lines = Object.entries(all).map(([k, v]) => `${k}: ${v}`);
  return `HTTP/1.1 ${status} ${REASONS[status] ?? 'Status'}\r\n${lines.join('\r\n')}\r\n\r\n`;
}

type Parsed =
  | { kind: 'need-more' }
  | { kind: 'bad'; status: number }
  | { kind: 'ok'; request: WireRequest; rest: Buffer };

function parseHead(head: string) {
  const [requestLine = '', ...lines] = head.split('\r\n');
  const [method, target, version] = requestLine.split(' ');
  if (!method || !target || !version?.startsWith('HTTP/1.')) return null;
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0) return null;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  return { method, target, headers };
}

/** Decodes a chunked body; null when incomplete. */
function parseChunked(buf: Buffer): { body: Buffer; used: number } | null {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = buf.indexOf('\r\n', at);
    if (eol < 0) return null;
    const size = Number.parseInt(buf.subarray(at, eol).toString('latin1'), 16);
    if (Number.isNaN(size)) return null;
    if (size === 0) {
      const end = buf.indexOf('\r\n\r\n', eol);
      return end < 0 ? null : { body: Buffer.concat(parts), used: end + 4 };
    }
    if (buf.length < eol + 2 + size + 2) return null;
    parts.push(buf.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
}

/** Parses one request from the front of `buf`. */
function parseRequest(buf: Buffer, opts: WireServerOptions): Parsed {
  const headEnd = buf.indexOf('\r\n\r\n');
  if (headEnd < 0) {
    return buf.length > opts.maxHeaderBytes ? { kind: 'bad', status: 431 } : { kind: 'need-more' };
  }
  const head = parseHead(buf.subarray(0, headEnd).toString('latin1'));
  if (!head) return { kind: 'bad', status: 400 };
  const after = buf.subarray(headEnd + 4);
  if (head.headers['transfer-encoding']?.toLowerCase().includes('chunked')) {
    const chunked = parseChunked(after);
    if (!chunked)
      return after.length > opts.maxBodyBytes
        ? { kind: 'bad', status: 413 }
        : { kind: 'need-more' };
    return {
      kind: 'ok',
      request: { ...head, body: chunked.body },
      rest: after.subarray(chunked.used),
    };
  }
  const length = Number(head.headers['content-length'] ?? '0');
  if (!Number.isInteger(length) || length < 0) return { kind: 'bad', status: 400 };
  if (length > opts.maxBodyBytes) return { kind: 'bad', status: 413 };
  if (after.length < length) return { kind: 'need-more' };
  return {
    kind: 'ok',
    request: { ...head, body: Buffer.from(after.subarray(0, length)) },
    rest: after.subarray(length),
  };
}

function makeExchange(
  socket: net.Socket,
  request: WireRequest,
  closed: Promise<void>,
): WireExchange {
  const gone = () => socket.destroyed || socket.writableEnded;
  return {
    request,
    closedPromise: closed,
    get closed() {
      return socket.destroyed;
    },
    respond(status, headers, body) {
      if (gone()) return;
      const bytes = typeof body === 'string' ? Buffer.from(body) : body;
      socket.write(formatHead(status, headers, bytes.length));
      socket.write(bytes);
    },
    writeRaw(bytes) {
      if (!gone()) socket.write(bytes);
    },
    end() {
      if (!gone()) socket.end();
    },
    reset() {
      if (!socket.destroyed) socket.resetAndDestroy();
    },
  };
}

/** Serves one socket: parse, hand over, wait, repeat; closes on `Connection: close`. */
function serveSocket(socket: net.Socket, opts: WireServerOptions) {
  let buffer: Buffer = Buffer.alloc(0);
  let busy = false;
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.on('error', () => {});
  const pump = async () => {
    if (busy || socket.destroyed) return;
    const parsed = parseRequest(buffer, opts);
    if (parsed.kind === 'need-more') return;
    if (parsed.kind === 'bad') {
      socket.end(formatHead(parsed.status, { connection: 'close' }, 0));
      return;
    }
    buffer = parsed.rest;
    busy = true;
    try {
      await opts.handler(makeExchange(socket, parsed.request, closed));
    } finally {
      busy = false;
    }
    if (parsed.request.headers.connection?.toLowerCase() === 'close') socket.end();
    else void pump();
  };
  socket.on('data', (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk]);
    void pump();
  });
}

/**
 * Starts a raw HTTP/1.1 server on `host:port` (port 0 picks one).
 * @throws when the port cannot be bound.
 */
export async function startWireServer(opts: WireServerOptions): Promise<WireServer> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    serveSocket(socket, opts);
  });
  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: opts.host, port, exclusive: true }, () => {
        server.off('error', reject);
        resolve((server.address() as net.AddressInfo).port);
      });
    });
  const port = await listen(opts.port);
  return {
    port,
    get openConnections() {
      return sockets.size;
    },
    get listening() {
      return server.listening;
    },
    async close() {
      if (!server.listening) return;
      const done = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await done;
    },
    async reopen() {
      if (!server.listening) await listen(port);
    },
  };
}
