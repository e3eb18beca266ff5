/**
 * The assistant's outages in the compiled binary (docs/assistant.md "Outages"): while the backend
 * is down every user message is still acknowledged with its turn, the assistant's own circuit opens
 * after `breaker.failure_threshold` failures and then lets one probe through per cooldown, the tabs
 * are told (`assistant {status}`), and after recovery every turn is answered, in order per thread.
 * A turn nobody answers within `assistant.turn_ttl_s` ends `expired`.
 */
import { describe, expect, test } from 'bun:test';
import { startAssistantBackend } from '../support/assistant-backend.ts';
import {
  cleanUpAfterEach,
  deferCleanup,
  type EndFrame,
  type Frame,
  isEnd,
  received,
  sendUser,
  serve,
  serveEnv,
  tab,
  turnIdOf,
  turnRequests,
  until,
  untilEndOf,
  WHSEC,
} from '../support/assistant-e2e.ts';
import { freePort } from '../support/spawn.ts';
import { tempDir } from '../support/temp.ts';
import type { WsClient } from '../support/ws.ts';

cleanUpAfterEach();

const COOLDOWN_S = 1;
// The assistant's own circuit settings (assistant.breaker.*); breaker.* stays at its defaults
// (threshold 5, cooldown 30 s), so the bounds below hold only if the override is applied.
const OUTAGE_ENV = {
  LIFELINE_ASSISTANT_BREAKER_FAILURE_THRESHOLD: '2',
  LIFELINE_ASSISTANT_BREAKER_COOLDOWN_S: String(COOLDOWN_S),
  LIFELINE_ASSISTANT_BREAKER_COOLDOWN_MAX_S: String(COOLDOWN_S),
};
const THREADS = ['t1', 't2', 't3', 't4', 't5', 't6', 't7', 't8'];

const assistantPush = (status: string) => (f: Frame) =>
  f.type === 'assistant' && f.status === status;

/** Every `reply.end` until one has been seen for each of `turnIds`. */
async function endsOf(client: WsClient, turnIds: string[]): Promise<EndFrame[]> {
  const ends = new Map<string, EndFrame>();
  await until(client, (f) => {
    if (isEnd(f)) ends.set(f.turn_id as string, f as EndFrame);
    return turnIds.every((id) => ends.has(id));
  });
  return turnIds.map((id) => ends.get(id) as EndFrame);
}

describe('the assistant is down', () => {
  test('messages are acknowledged; the circuit opens after the threshold and lets one probe through per cooldown; after recovery every turn is answered in order per thread', async () => {
    const backend = await startAssistantBackend(WHSEC);
    deferCleanup(() => backend.stop());
    await backend.setMode({ kind: 'down' });
    using dir = tempDir('lifeline-assistant-outage');
    const proc = await serve(dir, freePort(), serveEnv(backend.url, OUTAGE_ENV));
    const { client, first } = await tab(proc, { threads: THREADS });
    expect(first.assistant).toEqual({ status: 'ok' });
    // m1 and m2 on t1 (answered in that order), one message on each other thread.
    const turnIds = [await sendUser(client, 'm1', 't1'), await sendUser(client, 'm2', 't1')];
    for (const thread of THREADS.slice(1))
      turnIds.push(await sendUser(client, `on ${thread}`, thread));
    expect(new Set(turnIds).size).toBe(turnIds.length);
    await received(client, assistantPush('unavailable'));

    // The backend answers again but with 503: only the circuit's probes may reach it.
    await backend.setMode({ kind: 'status', status: 503 });
    const since = performance.now();
    await Bun.sleep(3000);
    const probes = turnRequests(backend).length;
    const elapsedMs = performance.now() - since;
    // One probe per cooldown (the re-open cooldown has ±10 % jitter), plus the one at the start.
    expect(probes).toBeLessThanOrEqual(Math.floor(elapsedMs / (COOLDOWN_S * 900)) + 1);
    expect(probes).toBeLessThan(THREADS.length);

    await backend.setMode({ kind: 'sse', text: 'answered after the outage', deltas: 2 });
    const ends = await endsOf(client, turnIds);
    expect(ends.map((e) => e.status)).toEqual(turnIds.map(() => 'complete'));
    expect(client.frames.some((f) => assistantPush('ok')(f as Frame))).toBe(true);
    // t1's second turn never reached the backend before its first had ended.
    const t1Order = turnRequests(backend)
      .filter((r) => (r.body as { thread_id: string }).thread_id === 't1')
      .map(turnIdOf);
    expect(t1Order.lastIndexOf(turnIds[0]!)).toBeLessThan(t1Order.indexOf(turnIds[1]!));
    expect(ends[0]!.seq).toBeLessThan(ends[1]!.seq);
    expect(backend.rejected).toEqual([]);
  }, 30_000);

  test('a turn nobody answers within assistant.turn_ttl_s ends expired', async () => {
    const backend = await startAssistantBackend(WHSEC);
    deferCleanup(() => backend.stop());
    await backend.setMode({ kind: 'down' });
    using dir = tempDir('lifeline-assistant-ttl');
    const env = serveEnv(backend.url, { ...OUTAGE_ENV, LIFELINE_ASSISTANT_TURN_TTL_S: '10' });
    const proc = await serve(dir, freePort(), env);
    const { client } = await tab(proc);
    const turnId = await sendUser(client, 'is anyone there?');
    const { end } = await untilEndOf(client, turnId);
    expect(end.status).toBe('expired');
    expect(end.error?.code).toBe('expired');
    expect(end.message).toBeUndefined();
  }, 30_000);
});
