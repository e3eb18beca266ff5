/**
 * The TCP fault proxy's toxics between a plain fetch client and the fake Zep server
 * (docs/faults.md#memory-faults, "P"). Times are only checked from below ("at least the injected
 * latency").
 */
import { afterEach, describe, expect, test } from 'bun:test';
import net from 'node:net';
import type { FakeZep } from './fake-zep.ts';
import { startFakeZep } from './fake-zep.ts';
import type { FaultProxy } from './fault-proxy.ts';
import { startFaultProxy } from './fault-proxy.ts';
import { call, rejectionOf } from './http.ts';
import { waitFor } from './spawn.ts';

let zep: FakeZep | null = null;
let proxy: FaultProxy | null = null;
const extra: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  await proxy?.stop();
  await zep?.stop();
  for (const cleanup of extra.splice(0)) await cleanup();
  proxy = null;
  zep = null;
});

/** A v1 fake (no auth) holding one long message, behind a fresh proxy. */
async function setup() {
  zep = await startFakeZep({ mode: 'v1' });
  const content = 'x'.repeat(15_000);
  await call(zep.url, 'POST', '/api/v1/sessions/s1/memory', {
    messages: [{ uuid: 'm1', role: 'user', content }],
  });
  proxy = await startFaultProxy({ upstreamHost: '127.0.0.1', upstreamPort: zep.port });
  return { zep, proxy, memoryPath: '/api/v1/sessions/s1/memory' };
}

const elapsedMs = async (fn: () => Promise<unknown>) => {
  const start = performance.now();
  await fn();
  return performance.now() - start;
};

describe('fault proxy', () => {
  test('forwards both ways untouched without toxics and counts bytes', async () => {
    const { zep: z, proxy: p, memoryPath } = await setup();
    const direct = await call(z.url, 'GET', memoryPath);
    const proxied = await call(p.url, 'GET', memoryPath);
    expect(proxied.text).toBe(direct.text);
    const stats = p.stats();
    expect(stats.accepted).toBe(1);
    expect(stats.bytesDownstream).toBeGreaterThan(15_000);
    expect(stats.bytesUpstream).toBeGreaterThan(0);
  });

  test('latency delays the answer by at least the configured time', async () => {
    const { proxy: p } = await setup();
    p.addToxic({ name: 'lag', type: 'latency', latencyMs: 150, jitterMs: 20 });
    expect(await elapsedMs(() => call(p.url, 'GET', '/healthz'))).toBeGreaterThanOrEqual(125);
  });

  test('a toxic with toxicity 0 never applies', async () => {
    const { proxy: p } = await setup();
    p.addToxic({ name: 'cut', type: 'reset_peer', timeoutMs: 0, toxicity: 0 });
    expect((await call(p.url, 'GET', '/healthz')).text).toBe('.');
  });

  test('bandwidth and slicer deliver the whole body in small delayed pieces', async () => {
    const { zep: z, proxy: p, memoryPath } = await setup();
    const direct = await call(z.url, 'GET', memoryPath);
    p.addToxic({ name: 'thin', type: 'bandwidth', rateKBps: 50 });
    p.addToxic({
      name: 'slices',
      type: 'slicer',
      averageSize: 512,
      sizeVariation: 100,
      delayMs: 1,
    });
    let text = '';
    expect(
      await elapsedMs(async () => {
        text = (await call(p.url, 'GET', memoryPath)).text;
      }),
    ).toBeGreaterThanOrEqual(150);
    expect(text).toBe(direct.text);
  });

  test('down accepts and closes at once, and comes back up', async () => {
    const { proxy: p } = await setup();
    p.setDown(true);
    const error = await rejectionOf(fetch(`${p.url}/healthz`));
    expect(error.code).toMatch(/ECONNRESET|ECONNREFUSED|ConnectionClosed/);
    p.setDown(false);
    expect((await call(p.url, 'GET', '/healthz')).text).toBe('.');
    p.addToxic({ name: 'gone', type: 'down' });
    await rejectionOf(fetch(`${p.url}/healthz`));
    expect(p.stats().downed).toBe(2);
  });

  test('reset_peer after N bytes resets the response mid-body', async () => {
    const { proxy: p, memoryPath } = await setup();
    p.addToxic({ name: 'rst', type: 'reset_peer', afterBytes: 2_000 });
    const error = await rejectionOf(call(p.url, 'GET', memoryPath));
    expect(error.code).toBe('ECONNRESET');
  });

  test('reset_peer upstream cuts the request before the server has read it', async () => {
    const { zep: z, proxy: p } = await setup();
    z.clearRequests();
    p.addToxic({ name: 'rst-up', type: 'reset_peer', afterBytes: 10, stream: 'upstream' });
    await rejectionOf(call(p.url, 'POST', '/api/v1/sessions/s2/memory', { messages: [] }));
    expect(z.requests()).toEqual([]);
  });

  test('limit_data closes the connection after N bytes and the client sees a short body', async () => {
    const { proxy: p, memoryPath } = await setup();
    p.addToxic({ name: 'limit', type: 'limit_data', bytes: 1_000 });
    const error = await rejectionOf(call(p.url, 'GET', memoryPath));
    expect(error.code).toBe('ECONNRESET');
  });

  test('timeout 0 holds the connection silently until the client aborts', async () => {
    const { zep: z, proxy: p } = await setup();
    z.clearRequests();
    p.addToxic({ name: 'void', type: 'timeout', timeoutMs: 0, stream: 'upstream' });
    const error = await rejectionOf(
      fetch(`${p.url}/healthz`, { signal: AbortSignal.timeout(100) }),
    );
    expect(error.name).toBe('TimeoutError');
    expect(z.requests()).toEqual([]);
    await waitFor(() => p.stats().active === 0);
  });

  test('timeout > 0 closes the connection after the timeout', async () => {
    const { proxy: p } = await setup();
    p.addToxic({ name: 'close', type: 'timeout', timeoutMs: 50 });
    const error = await rejectionOf(
      fetch(`${p.url}/healthz`, { signal: AbortSignal.timeout(5_000) }),
    );
    expect(error.name).not.toBe('TimeoutError');
  });

  test('slow_close delays the FIN toward the client', async () => {
    const closer = net.createServer((socket) => socket.end('bye'));
    await new Promise<void>((resolve) => closer.listen(0, '127.0.0.1', resolve));
    extra.push(() => new Promise<void>((resolve) => closer.close(() => resolve())));
    proxy = await startFaultProxy({
      upstreamHost: '127.0.0.1',
      upstreamPort: (closer.address() as net.AddressInfo).port,
    });
    proxy.addToxic({ name: 'linger', type: 'slow_close', delayMs: 150 });
    const port = proxy.port;
    const waited = await elapsedMs(
      () =>
        new Promise<void>((resolve) => {
          const socket = net.connect(port, '127.0.0.1');
          socket.on('data', () => {});
          socket.on('end', () => {
            socket.destroy();
            resolve();
          });
        }),
    );
    expect(waited).toBeGreaterThanOrEqual(140);
  });

  test('removeToxic and clear restore clean forwarding on a reused connection', async () => {
    const { proxy: p } = await setup();
    expect((await call(p.url, 'GET', '/healthz')).text).toBe('.');
    p.addToxic({ name: 'rst', type: 'reset_peer', afterBytes: 1 });
    await rejectionOf(call(p.url, 'GET', '/healthz'));
    p.removeToxic('rst');
    p.addToxic({ name: 'lag', type: 'latency', latencyMs: 1 });
    p.clear();
    expect((await call(p.url, 'GET', '/healthz')).text).toBe('.');
  });
});
