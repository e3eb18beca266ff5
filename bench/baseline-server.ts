/**
 * The ceiling for bench/ws.ts: a bare `Bun.serve` WebSocket server that sends a ~1 KB JSON on open
 * and answers every text frame by publishing it to the user's other sockets (one Bun topic per
 * user, `?user=` at connect; the multi-tab fan-out lifeline does) and echoing it to the sender.
 * No auth, no storage, no validation.
 *
 *   bun bench/baseline-server.ts PORT
 */
import { openPayload } from './ws-payload.ts';

const payload = openPayload();
const server = Bun.serve({
  hostname: '127.0.0.1',
  port: Number(process.argv[2] ?? 0),
  fetch(request, srv) {
    const user = new URL(request.url).searchParams.get('user') ?? 'u';
    if (srv.upgrade(request, { data: { topic: `user:${user}` } })) return undefined;
    return new Response('ok');
  },
  websocket: {
    data: {} as { topic: string },
    open(ws) {
      ws.subscribe(ws.data.topic);
      ws.send(payload);
    },
    message(ws, message) {
      // `ws.publish` reaches every subscriber of the topic except `ws` itself.
      ws.publish(ws.data.topic, message);
      ws.send(message);
    },
  },
});
process.stdout.write(`listening ${server.port}\n`);
