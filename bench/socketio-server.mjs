/**
 * Socket.IO 4 on Node, the comparison for bench/ws.ts: what a team would pick instead of lifeline.
 * Connection-state recovery is on; WebSocket transport only (the bench's client skips long-polling).
 * On connection it joins the room of its user (`?user=` in the handshake) and emits a ~1 KB JSON
 * (`hello`, like the baseline's open frame); `echo` is emitted to the user's other sockets in that
 * room (`socket.to(room)`, Socket.IO's multi-tab equivalent of lifeline's fan-out; with recovery on
 * each broadcast is also kept for replay) and then answered through the acknowledgement callback.
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
  const room = `user:${socket.handshake.query.user ?? 'u'}`;
  socket.join(room);
  // socket.recovered: true when connection-state recovery restored the session.
  socket.emit('hello', { ...payload, recovered: socket.recovered });
  socket.on('echo', (data, ack) => {
    socket.to(room).emit('echo', data);
    if (typeof ack === 'function') ack(data);
  });
});
http.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
  process.stdout.write(`listening ${http.address().port}\n`);
});
