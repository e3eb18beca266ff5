/**
 * The assistant for bench/assistant.ts, run as its own Bun process: every answer is an AI SDK UI
 * message stream of `deltas` `text-delta` parts, one every `1000 / ratePerS` ms on an absolute
 * schedule (a late timer does not push the rest back). Each delta's text is
 * `i=<index> t=<ms since the epoch, µs fraction> ` padded to {@link DELTA_CHARS}, stamped just
 * before the write, so a reader on the same machine computes write → receive latency per delta
 * (`performance.timeOrigin + performance.now()` agrees across processes to ~0.05 ms here).
 *
 * Routes: `POST /assistant` (lifeline's turns, pings and cancels, each verified with the
 * `standardwebhooks` library; a bad signature gets 401) and `GET /direct` (the same stream,
 * unsigned: the baseline's tabs read it themselves). Prints its port on stdout, then serves until
 * killed. Argument: JSON `{secret, deltas, ratePerS}`.
 */
import { Webhook } from 'standardwebhooks';

/** Characters of every delta's text (the stamp padded with spaces). */
export const DELTA_CHARS = 40;

/** The wall clock in ms with a µs fraction, comparable across processes on one machine. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

/** The text of delta `index`, stamped now. */
export function deltaText(index: number): string {
  return `i=${String(index).padStart(4, '0')} t=${nowMs().toFixed(3)} `.padEnd(DELTA_CHARS, ' ');
}

/** Index and stamp of one delta's text; undefined when it is not one of ours. */
export function parseDelta(text: string): { index: number; sentMs: number } | undefined {
  const match = /^i=(\d+) t=([\d.]+) +$/.exec(text);
  if (!match) return undefined;
  return { index: Number(match[1]), sentMs: Number(match[2]) };
}

interface BackendSpec {
  secret: string;
  deltas: number;
  ratePerS: number;
}

const encoder = new TextEncoder();
const sse = (part: unknown) => encoder.encode(`data: ${JSON.stringify(part)}\n\n`);

/** A paced UI message stream; stops writing when the reader goes away. */
function stream(spec: BackendSpec, abort: AbortSignal): Response {
  const everyMs = 1000 / spec.ratePerS;
  const t0 = performance.now();
  let index = -1;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (abort.aborted) return controller.close();
      if (index === -1) {
        controller.enqueue(sse({ type: 'start' }));
        controller.enqueue(sse({ type: 'text-start', id: 't1' }));
      } else if (index === spec.deltas) {
        controller.enqueue(sse({ type: 'text-end', id: 't1' }));
        controller.enqueue(sse({ type: 'finish' }));
        controller.enqueue(encoder.encode('data: [DONE]\n\n'));
        return controller.close();
      } else {
        const due = t0 + index * everyMs - performance.now();
        if (due > 0) await Bun.sleep(due);
        controller.enqueue(sse({ type: 'text-delta', id: 't1', delta: deltaText(index) }));
      }
      index += 1;
    },
  });
  return new Response(body, {
    headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' },
  });
}

async function assistant(spec: BackendSpec, webhook: Webhook, request: Request) {
  const raw = await request.text();
  try {
    webhook.verify(raw, Object.fromEntries(request.headers));
  } catch {
    return new Response('bad signature', { status: 401 });
  }
  const body = JSON.parse(raw) as { type?: string };
  if (body.type !== 'turn') return Response.json({ ok: true });
  return stream(spec, request.signal);
}

/** Starts the backend; resolves with its port. */
export function startBackend(spec: BackendSpec): number {
  const webhook = new Webhook(spec.secret);
  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    idleTimeout: 0,
    fetch(request) {
      const path = new URL(request.url).pathname;
      if (path === '/direct') return stream(spec, request.signal);
      if (path === '/assistant' && request.method === 'POST')
        return assistant(spec, webhook, request);
      return new Response('not found', { status: 404 });
    },
  });
  return server.port ?? 0;
}

if (import.meta.main) {
  const spec = JSON.parse(Bun.argv[2] ?? '{}') as BackendSpec;
  process.stdout.write(`${startBackend(spec)}\n`);
}
