/**
 * The client against the daemon run from source: a server restart resumes with no lost and no
 * duplicated message; a wiped data directory (a new epoch) gives `recovered:false` and the state
 * is replaced.
 */
import { afterEach, describe, expect, test } from 'bun:test';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { connect, type LifelineClient, type WebSocketLike } from '../../client/index.ts';
import { mintToken } from '../../src/realtime/auth.ts';
import { freePort, waitFor } from '../support/spawn.ts';
import { tempDir } from '../support/temp.ts';
import { type DaemonProcess, startDaemon } from './daemon.ts';

const SECRET = 'client-e2e-secret-at-least-32-bytes-long';
const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

function track<T extends LifelineClient | DaemonProcess>(item: T): T {
  cleanup.push(() => ('close' in item ? item.close() : item[Symbol.asyncDispose]()));
  return item;
}

function daemon(port: number, dataDir: string, env: Record<string, string> = {}) {
  return startDaemon({ port, dataDir, env: { LIFELINE_AUTH_JWT_SECRET: SECRET, ...env } }).then(
    track,
  );
}

/** A client whose reconnects can be held back: while `held`, attempts go to a closed port. */
function heldClient(wsUrl: string, userId: string) {
  const gate = { held: false };
  const resumed: boolean[] = [];
  const client = connect({
    url: wsUrl,
    thread: 't1',
    token: () => mintToken({ secret: SECRET, userId, ttlS: 3600 }),
    backoff: { baseMs: 20, capMs: 200 },
    socket: (url, protocols) =>
      new WebSocket(
        gate.held ? url.replace(/:\d+\//, ':9/') : url,
        protocols,
      ) as never as WebSocketLike,
  });
  client.on('rehydrate', ({ resumed: r }) => resumed.push(r));
  return { client: track(client), gate, resumed };
}

const isOpen = (c: LifelineClient) => c.getStatus().state === 'open';
const contents = (c: LifelineClient) => c.getState().threads.t1?.messages.map((m) => m.content);

describe('client against the daemon', () => {
  test('a server restart resumes with no lost and no duplicated message', async () => {
    using dir = tempDir('lifeline-client-restart');
    const port = freePort();
    const first = await daemon(port, dir.path);
    const a = heldClient(first.wsUrl, 'u1');
    const b = heldClient(first.wsUrl, 'u1');
    await waitFor(() => isOpen(a.client) && isOpen(b.client));
    await b.client.send({ thread_id: 't1', content: 'before' });
    await waitFor(() => contents(a.client)?.length === 1);
    a.gate.held = true;
    await first.stop('SIGTERM');
    const offline = a.client.send({ thread_id: 't1', content: 'sent while offline' });
    await daemon(port, dir.path);
    await waitFor(() => isOpen(b.client), 15_000);
    for (const content of ['missed 1', 'missed 2'])
      await b.client.send({ thread_id: 't1', content });
    a.gate.held = false;
    a.client.reconnectNow();
    await offline;
    await waitFor(() => contents(a.client)?.length === 4);
    expect(a.resumed).toEqual([false, true]);
    // By seq: the offline message is committed after the ones it missed.
    expect(contents(a.client)).toEqual(['before', 'missed 1', 'missed 2', 'sent while offline']);
    await waitFor(() => contents(b.client)?.length === 4);
    const ids = b.client.getState().threads.t1?.messages.map((m) => m.id) ?? [];
    expect(new Set(ids).size).toBe(4);
  });

  test('a wiped data directory is a new epoch: recovered:false and the state replaced', async () => {
    using dir = tempDir('lifeline-client-epoch');
    const port = freePort();
    const first = await daemon(port, join(dir.path, 'a'));
    const a = heldClient(first.wsUrl, 'u1');
    await waitFor(() => isOpen(a.client));
    await a.client.send({ thread_id: 't1', content: 'old world' });
    const oldEpoch = a.client.getState().epoch;
    await first.stop('SIGTERM');
    mkdirSync(join(dir.path, 'b'));
    await daemon(port, join(dir.path, 'b'));
    await waitFor(() => a.resumed.length === 2 && isOpen(a.client), 15_000);
    expect(a.resumed).toEqual([false, false]);
    expect(a.client.getState().epoch).not.toBe(oldEpoch);
    expect(a.client.getState().threads.t1?.messages ?? []).toEqual([]);
  });

  test('a kill -9 mid-answer: the retried attempt replaces the partial text and the answer ends exact, once', async () => {
    using dir = tempDir('lifeline-client-reply-restart');
    const port = freePort();
    const demo = { LIFELINE_ASSISTANT_BACKEND: 'demo' };
    const first = await daemon(port, dir.path, demo);
    const a = heldClient(first.wsUrl, 'u1');
    await waitFor(() => isOpen(a.client));
    const replyIds = new Set<string>();
    a.client.subscribe(() => {
      const reply = a.client.getState().threads.t1?.replies?.[0];
      if (reply?.replyId) replyIds.add(reply.replyId);
    });
    const { turnId } = await a.client.send({ thread_id: 't1', content: 'restart me' });
    await waitFor(() => (a.client.getState().threads.t1?.replies?.[0]?.text.length ?? 0) > 0);
    await first.stop('SIGKILL');
    await daemon(port, dir.path, demo);
    const ended = () => a.client.getState().threads.t1?.ended ?? [];
    await waitFor(() => ended().length === 1, 20_000);
    expect(ended()[0]).toMatchObject({ turnId: turnId as string, status: 'complete' });
    expect(replyIds.size).toBe(2);
    expect(contents(a.client)).toEqual([
      'restart me',
      'You said: “restart me”. This is the demo assistant; set assistant.backend = "http" to answer with your own.',
    ]);
  });
});
