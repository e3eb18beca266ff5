/**
 * `assistant.max_in_flight` bounds attempts streaming at once, not turns waiting: a turn waiting
 * for its retry (its assistant failed) holds no slot, so another thread's turn streams meanwhile
 * (docs/assistant.md#retries).
 */
import { expect, test } from 'bun:test';
import type { AttemptSource } from '../../src/assistant/source.ts';
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
