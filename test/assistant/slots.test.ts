/**
 * `assistant.max_in_flight` bounds attempts streaming at once, not turns waiting: a turn waiting
 * for its retry (its assistant failed) holds no slot, so another thread's turn streams meanwhile
 * (docs/assistant.md#retries).
 */
import { expect, test } from 'bun:test';
import { AssistantCircuit } from '../../src/assistant/circuit.ts';
import type { AttemptSource } from '../../src/assistant/source.ts';
import { systemClock } from '../../src/lib/clock.ts';
import { silentLogger } from '../../src/lib/log.ts';
import { startRealtime } from '../support/realtime-harness.ts';
import { connect } from '../support/ws.ts';

type Frame = Record<string, unknown> & { type: string };

test('a turn waiting for its retry holds no slot: with max_in_flight = 1 another thread still answers', async () => {
  const calls: string[] = [];
  const source: AttemptSource = async (_turnId, body, onText) => {
    calls.push(body.thread_id);
    if (body.thread_id === 'down') return { kind: 'unavailable', message: 'assistant restarting' };
    await onText('answered');
    return { kind: 'complete' };
  };
  await using h = await startRealtime({
    assistant: { source },
    configure: (config) => {
      config.assistant.max_in_flight = 1;
    },
  });
  const { client } = await connect(await h.urlFor('u1', { thread: 'down' }));
  const message = (threadId: string) => ({
    type: 'message',
    id: crypto.randomUUID(),
    thread_id: threadId,
    role: 'user',
    content: 'hello',
  });
  client.send(message('down'));
  while (!calls.includes('down')) await Bun.sleep(5);
  client.send(message('up'));
  let end: Frame | undefined;
  while (end === undefined) {
    const frame = await client.next<Frame>();
    if (frame.type === 'reply.end') end = frame;
  }
  // The retry of `down` is about a second away; `up` did not wait for it.
  expect(end).toMatchObject({ thread_id: 'up', status: 'complete' });
  expect(calls).toEqual(['down', 'up']);
  await client.close();
});

test('when the assistant comes back, a turn waiting out a retry delay from the outage is tried at once', async () => {
  let down = true;
  const calls: Array<{ thread: string; attempt: number; atMs: number }> = [];
  const source: AttemptSource = async (_turnId, body, onText) => {
    calls.push({ thread: body.thread_id, attempt: body.attempt, atMs: Date.now() });
    if (down) return { kind: 'unavailable', message: 'assistant restarting' };
    await onText('answered');
    return { kind: 'complete' };
  };
  // Persistence is not what this test looks at: the circuit keeps its state in memory.
  const circuit = await AssistantCircuit.open({
    store: { loadBreakerState: async () => null, saveBreakerState: async () => {} },
    settings: {
      failureThreshold: 1,
      cooldownMs: 200,
      cooldownMaxMs: 200,
      backoff: 1,
      halfOpenMaxCalls: 1,
      probeTimeoutMs: 5000,
    },
    clock: systemClock,
    logger: silentLogger,
  });
  await using h = await startRealtime({ assistant: { source, circuit } });
  const { client } = await connect(await h.urlFor('u1', { thread: 'a' }));
  const send = (threadId: string) =>
    client.send({
      type: 'message',
      id: crypto.randomUUID(),
      thread_id: threadId,
      role: 'user',
      content: 'hi',
    });
  send('a');
  // Attempt 2 of `a` fails too: its next try is set about 5 s out (retry.ts).
  while (calls.filter((c) => c.thread === 'a').length < 2) await Bun.sleep(10);
  const waiting = (await h.store.openTurns(10)).find((t) => t.threadId === 'a');
  await Bun.sleep(50);
  const retryAt = (await h.store.readTurn(waiting!.turnId))?.nextAttemptAtWallMs ?? 0;
  down = false;
  send('b'); // its probe succeeds and closes the circuit
  const ends = new Set<string>();
  while (ends.size < 2) {
    const frame = await client.next<Frame>();
    if (frame.type === 'reply.end' && frame.status === 'complete')
      ends.add(String(frame.thread_id));
  }
  const third = calls.find((c) => c.thread === 'a' && c.attempt === 3);
  expect(third).toBeDefined();
  expect(third!.atMs).toBeLessThan(retryAt);
  await client.close();
});
