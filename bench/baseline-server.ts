/**
 * The ceiling for bench/ws.ts: a bare `Bun.serve` WebSocket server that sends a ~1 KB JSON on open
 * and echoes every text frame. No auth, no storage, no validation.
 *
 *   bun bench/baseline-server.ts PORT
 */
import { openPayload } from './ws-payload.ts';

const payload = openPayload();
const server = Bun.serve({
  hostname: '127.0.0.1',
  port: Number(process.argv[2] ?? 0),
  fetch(request, srv) {
    if (srv.upgrade(request)) return undefined;
    return new Response('ok');
  },
  websocket: {
    open(ws) {
      ws.send(payload);
    },
    message(ws, message) {
      ws.send(message);
    },
  },
});
process.stdout.write(`listening ${server.port}\n`);
