/**
 * Socket.IO 4 on Node, the comparison for bench/ws.ts: what a team would pick instead of lifeline.
 * Connection-state recovery is on; WebSocket transport only (the bench's client skips long-polling).
 * On connection it emits a ~1 KB JSON (`hello`, like the baseline's open frame); `echo` is answered
 * through the acknowledgement callback.
 *
 *   node bench/socketio-server.mjs PORT
 */
import { createServer } from 'node:http';
import { Server } from 'socket.io';

const messages = Array.from({ length: 6 }, (_, i) => ({
  id: `00000000-0000-4000-8000-00000000000${i}`,
  thread_id: 't1',
  role: i % 2 === 0 ? 'user' : 'assistant',
  content: 'x'.repeat(60),
  created_at: '2026-11-24T12:00:00.000Z',
  seq: i + 1,
}));
const payload = {
  type: 'rehydrate',
  epoch: 'k3f9c2d1',
  seq: 6,
  recovered: false,
  session: { user_id: 'u1', connection_id: 'c-1', token_expires_at: '2026-11-24T13:00:00.000Z' },
  preferences: { theme: 'dark' },
  threads: { t1: { personalization: {}, messages } },
  memory: { status: 'ok' },
};

const http = createServer((_req, res) => res.end('ok'));
const io = new Server(http, {
  transports: ['websocket'],
  serveClient: false,
  connectionStateRecovery: { maxDisconnectionDuration: 120_000, skipMiddlewares: true },
});
io.on('connection', (socket) => {
  // socket.recovered: true when connection-state recovery restored the session.
  socket.emit('hello', { ...payload, recovered: socket.recovered });
  socket.on('echo', (data, ack) => {
    if (typeof ack === 'function') ack(data);
  });
});
http.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
  process.stdout.write(`listening ${http.address().port}\n`);
});
