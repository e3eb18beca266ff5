/**
 * Resume (docs/design.md#websocket, #epochs): events pushed through the HTTP API while a client was
 * away are replayed in order after the snapshot with `recovered:true`; anything doubtful gives
 * `recovered:false` and the snapshot alone.
 */
import { describe, expect, test } from 'bun:test';
import { apiRoutes } from '../../src/http/api.ts';
import { type Harness, startRealtime } from '../support/realtime-harness.ts';
import { connect } from '../support/ws.ts';

const KEY = 'resume-test-key-0123456789';

function start() {
  return startRealtime({
    configure: (config) => {
      config.auth.api_key = KEY;
    },
    plugins: (parts) => [
      apiRoutes({
        apiKey: () => KEY,
        store: parts.store,
        memory: parts.memory,
        realtime: parts.realtime,
      }),
    ],
  });
}

async function postEvent(h: Harness, userId: string, event: string, data: unknown) {
  const response = await fetch(`${h.httpUrl}/api/v1/users/${userId}/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ event, data }),
  });
  expect(response.status).toBe(202);
  return ((await response.json()) as { seq: number }).seq;
}

async function firstSession(h: Harness) {
  const { client, first } = await connect<{ epoch: string; seq: number }>(await h.urlFor('u1'));
  await client.request({ type: 'preferences.set', preferences: { a: 1 } });
  await client.close();
  return { epoch: first.epoch, seq: 1 };
}

describe('resume', () => {
  test('replays the 3 events missed while away, in order, with recovered:true', async () => {
    await using h = await start();
    const seen = await firstSession(h);
    for (const n of [1, 2, 3]) await postEvent(h, 'u1', `e${n}`, { n });
    const { client, first } = await connect(
      await h.urlFor('u1', { since: String(seen.seq), epoch: seen.epoch }),
    );
    expect(first).toMatchObject({ type: 'rehydrate', recovered: true, seq: 4 });
    const replayed = [await client.next(), await client.next(), await client.next()];
    expect(replayed).toEqual([
      { type: 'event', seq: 2, event: 'e1', data: { n: 1 } },
      { type: 'event', seq: 3, event: 'e2', data: { n: 2 } },
      { type: 'event', seq: 4, event: 'e3', data: { n: 3 } },
    ]);
    // Live pushes continue after the replay.
    await postEvent(h, 'u1', 'e4', null);
    expect(await client.next()).toMatchObject({ type: 'event', seq: 5, event: 'e4' });
    await client.close();
  });

  test('a since equal to the current seq recovers with nothing to replay', async () => {
    await using h = await start();
    const seen = await firstSession(h);
    const { client, first } = await connect(
      await h.urlFor('u1', { since: '1', epoch: seen.epoch }),
    );
    expect(first).toMatchObject({ recovered: true, seq: 1 });
    expect(await client.request({ type: 'ping' })).toEqual({ type: 'pong' });
    await client.close();
  });

  test.each([
    ['a since older than the history', 'trimmed'],
    ['another epoch', 'epoch'],
    ['a since ahead of the current seq', 'ahead'],
    ['more than 300 missed events', 'many'],
    ['no epoch', 'no-epoch'],
  ])('%s gives recovered:false and the snapshot alone', async (_name, kind) => {
    await using h = await start();
    const seen = await firstSession(h);
    for (const n of [1, 2, 3]) await postEvent(h, 'u1', `e${n}`, { n });
    const query: Record<string, string> = { since: '1', epoch: seen.epoch };
    if (kind === 'trimmed') await h.store.trimHistory(2, 86_400_000, Date.now());
    if (kind === 'epoch') query.epoch = 'not-the-epoch';
    if (kind === 'ahead') query.since = '99';
    if (kind === 'no-epoch') delete query.epoch;
    if (kind === 'many') {
      for (let i = 0; i < 300; i += 1) await h.store.appendEvent('u1', 'event', { event: 'x' });
    }
    const { client, first } = await connect(await h.urlFor('u1', query));
    expect(first).toMatchObject({ type: 'rehydrate', recovered: false, preferences: { a: 1 } });
    expect(await client.request({ type: 'ping' })).toEqual({ type: 'pong' });
    expect(client.unread).toEqual([]);
    await client.close();
  });
});
