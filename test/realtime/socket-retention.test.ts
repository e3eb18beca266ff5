/**
 * What an open socket keeps alive (docs/benchmarks.md, connect path): once `rehydrate` is sent, a
 * socket holds its session, not the upgrade request nor Elysia's copy of the upgrade context;
 * frames and closes still reach the session.
 */

import { heapStats } from 'bun:jsc';
import { describe, expect, test } from 'bun:test';
import { startRealtime } from '../support/realtime-harness.ts';
import { connect, type WsClient } from '../support/ws.ts';

const SOCKETS = 40;

/** Live objects of `type` after a full collection. */
function live(type: string): number {
  Bun.gc(true);
  return heapStats().objectTypeCounts[type] ?? 0;
}

describe('an open socket', () => {
  test('does not keep its upgrade request (or its headers) alive', async () => {
    await using h = await startRealtime();
    const warm = await connect(await h.urlFor('warm'));
    warm.client.socket.close();
    await warm.client.closed;
    const requestsBefore = live('BunRequest');
    const headersBefore = live('Headers');
    const clients: WsClient[] = [];
    for (let i = 0; i < SOCKETS; i += 1) {
      const { client, first } = await connect(await h.urlFor(`user${i}`));
      expect(first.type).toBe('rehydrate');
      clients.push(client);
    }
    // One per socket before; a few at most now (a request still in flight, allocator timing).
    expect(live('BunRequest') - requestsBefore).toBeLessThan(SOCKETS / 4);
    expect(live('Headers') - headersBefore).toBeLessThan(SOCKETS / 4);
    // The socket still answers frames and its close is still seen.
    const probe = clients[0]!;
    probe.socket.send(JSON.stringify({ type: 'ping', id: 'p1' }));
    expect(await probe.next()).toMatchObject({ type: 'pong', id: 'p1' });
    for (const client of clients) client.socket.close(1000, 'done');
    await Promise.all(clients.map((client) => client.closed));
    for (let i = 0; i < 50 && h.realtime.connectionCount() > 0; i += 1) await Bun.sleep(10);
    expect(h.realtime.connectionCount()).toBe(0);
  });
});
