/**
 * The default batching of streamed-text change events outside browsers (client/batch.ts): the
 * changes of one task are announced together at its end, before any timer runs.
 */
import { afterEach, expect, test } from 'bun:test';
import { connect, type LifelineClient } from '../../client/index.ts';
import { FakeNetwork, FakeTimers, flush, rehydrate, uuid } from './fakes.ts';

const clients: LifelineClient[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});

const TURN = uuid(100);
const REPLY = uuid(200);
const ids = { turn_id: TURN, thread_id: 't1', reply_id: REPLY };

test('outside browsers, the deltas of one task make one change event, announced before a timer of 0 ms', async () => {
  expect((globalThis as { requestAnimationFrame?: unknown }).requestAnimationFrame).toBeUndefined();
  const net = new FakeNetwork();
  const c = connect({
    url: 'ws://h/ws',
    token: async () => 't',
    thread: 't1',
    timers: new FakeTimers(),
    socket: net.factory,
  });
  clients.push(c);
  await flush();
  net.last.push(rehydrate({ seq: 1, threads: { t1: { personalization: {}, messages: [] } } }));
  net.last.push({ type: 'reply.start', seq: 2, ...ids, message_id: uuid(1) });
  const seen: string[] = [];
  c.on('state', (state) => seen.push(state.threads.t1?.replies?.[0]?.text ?? '-'));
  const timerRan = new Promise<string[]>((resolve) => setTimeout(() => resolve([...seen]), 0));
  net.last.push({ type: 'reply.delta', ...ids, offset: 0, text: 'Hel' });
  net.last.push({ type: 'reply.delta', ...ids, offset: 3, text: 'lo' });
  expect(seen).toEqual([]);
  await Promise.resolve();
  expect(seen).toEqual(['Hello']);
  expect(await timerRan).toEqual(['Hello']);
});
