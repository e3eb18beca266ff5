/**
 * The assistant in cluster mode (docs/decisions.md "Assistant turns across instances"): two
 * compiled instances on one PostgreSQL database and one scriptable assistant that verifies every
 * request. The instance holding a thread's turn lease streams the reply; a tab on the other
 * instance sees every delta and the same final text, a tab connecting there mid-stream gets the
 * text so far in `rehydrate` and ends with exactly the full text, no turn is sent twice, and
 * after kill -9 of the streaming instance the other takes the turn over once its lease lapses.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { SQL } from 'bun';
import {
  type AssistantBackend,
  type RecordedRequest,
  sseEvent,
  startAssistantBackend,
  uiParts,
} from '../support/assistant-backend.ts';
import { type Cluster, type ClusterInstance, startCluster } from '../support/cluster.ts';
import { postgresTestsEnabled } from '../support/postgres.ts';
import { connect, type WsClient } from '../support/ws.ts';

const enabled = postgresTestsEnabled('cluster assistant tests');
const WHSEC = `whsec_${Buffer.from(crypto.getRandomValues(new Uint8Array(24))).toString('base64')}`;
/** Twenty words, some outside ASCII (offsets count UTF-8 bytes). */
const REPLY = Array.from({ length: 20 }, (_, i) => `wörd${i}—`).join(' ');

type Frame = Record<string, unknown> & { type: string };
interface View {
  turn_id: string;
  reply_id?: string;
  status: string;
  text: string;
  offset: number;
}

let cluster: Cluster;
let backend: AssistantBackend;
let db: SQL;
const open: WsClient[] = [];

async function tab(instance: ClusterInstance, user: string, thread: string) {
  const token = await cluster.token(user);
  const opened = await connect<Frame>(`${instance.wsUrl}?thread=${thread}`, {
    headers: { authorization: `Bearer ${token}` },
    protocols: ['lifeline.v1'],
  });
  open.push(opened.client);
  return opened;
}

async function until(client: WsClient, done: (frame: Frame) => boolean): Promise<Frame[]> {
  const frames: Frame[] = [];
  for (;;) {
    const frame = await client.next<Frame>();
    frames.push(frame);
    if (done(frame)) return frames;
  }
}

const isEnd = (frame: Frame) => frame.type === 'reply.end';

/** What a client following docs/protocol.md shows: deltas applied by offset, from `start`. */
function applyDeltas(frames: Frame[], start = ''): string {
  let text = start;
  for (const frame of frames) {
    if (frame.type !== 'reply.delta') continue;
    const offset = frame.offset as number;
    const have = Buffer.byteLength(text);
    if (offset === have) text += frame.text as string;
    else if (offset > have) throw new Error(`a gap: delta at ${offset}, ${have} bytes shown`);
  }
  return text;
}

function userMessage(thread: string, content: string) {
  return { type: 'message', id: crypto.randomUUID(), thread_id: thread, role: 'user', content };
}

/** The instance holding the turn lease of `thread` now (by `cluster.instance_id`). */
async function holderOf(thread: string): Promise<ClusterInstance> {
  const rows = (await db`SELECT turns_leased_by AS h FROM threads WHERE id = ${thread}`) as Array<{
    h: string | null;
  }>;
  const holder = cluster.instances.find((instance) => instance.id === rows[0]?.h);
  if (holder === undefined) throw new Error(`no instance holds the turns of ${thread}`);
  return holder;
}

const other = (instance: ClusterInstance) => cluster.instances.find((i) => i !== instance)!;

/** Turn requests the backend got, by webhook-id (the turn id). */
function requestsByTurn(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const request of backend.requests) {
    if ((request.body as { type?: string }).type !== 'turn') continue;
    const id = request.headers['webhook-id']!;
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

/** Turn requests answering now, by thread, and the most seen at once for one thread. */
const answering = new Map<string, number>();
let mostAtOnce = 0;
/** While set, the backend answers turns itself, counting the ones of a thread answering at once. */
let counting = false;

function countingAnswer(recorded: RecordedRequest): Response | undefined {
  const body = recorded.body as { type?: string; thread_id?: string };
  if (!counting || body.type !== 'turn') return undefined;
  const thread = body.thread_id ?? '';
  answering.set(thread, (answering.get(thread) ?? 0) + 1);
  mostAtOnce = Math.max(mostAtOnce, answering.get(thread)!);
  let ended = false;
  const end = () => {
    if (!ended) answering.set(thread, answering.get(thread)! - 1);
    ended = true;
  };
  const chunks = uiParts(['short ', 'answer']).map(sseEvent);
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      await Bun.sleep(30);
      const chunk = chunks.shift();
      if (chunk !== undefined) return controller.enqueue(new TextEncoder().encode(chunk));
      end(); // before the close: the daemon cannot see the end of this answer any earlier
      controller.close();
    },
    cancel: end,
  });
  return new Response(stream, { headers: { 'content-type': 'text/event-stream' } });
}

describe.if(enabled)('the assistant across two instances', () => {
  beforeAll(async () => {
    backend = await startAssistantBackend(WHSEC, countingAnswer);
    cluster = await startCluster({
      n: 2,
      env: {
        LIFELINE_ASSISTANT_BACKEND: 'http',
        LIFELINE_ASSISTANT_URL: backend.url,
        LIFELINE_ASSISTANT_SECRET: WHSEC,
      },
    });
    db = new SQL(cluster.dbUrl);
  }, 120_000);

  afterAll(async () => {
    for (const client of open) await client.close().catch(() => {});
    await db?.close();
    await cluster?.stop();
    await backend?.stop();
  });

  test('a tab on the other instance sees every delta and the same final text; one request per turn', async () => {
    await backend.setMode({ kind: 'sse', text: REPLY, deltas: 20, delayMs: 60 });
    const [a, b] = cluster.instances as [ClusterInstance, ClusterInstance];
    const onA = await tab(a, 'u1', 't1');
    const onB = await tab(b, 'u1', 't1');
    onA.client.send(userMessage('t1', 'count twenty words'));
    await until(onA.client, (f) => f.type === 'reply.delta');
    const holder = await holderOf('t1');
    const streaming = holder === a ? onA : onB;
    const watching = holder === a ? onB : onA;
    const [mine, theirs] = await Promise.all([
      until(streaming.client, isEnd),
      until(watching.client, isEnd),
    ]);
    const remoteDeltas = theirs.filter((f) => f.type === 'reply.delta');
    expect(remoteDeltas.length).toBeGreaterThan(0);
    expect(applyDeltas(theirs)).toBe(REPLY);
    expect((theirs.at(-1) as { message?: { content: string } }).message?.content).toBe(REPLY);
    expect((mine.at(-1) as { message?: { content: string } }).message?.content).toBe(REPLY);
    expect([...requestsByTurn().values()]).toEqual([1]);
    expect(backend.rejected).toEqual([]);
  }, 60_000);

  test('a tab connecting to the other instance mid-stream shows the text so far and ends with exactly the full text', async () => {
    await backend.setMode({ kind: 'sse', text: REPLY, deltas: 20, delayMs: 80 });
    const [a] = cluster.instances as [ClusterInstance, ClusterInstance];
    const onA = await tab(a, 'u2', 't2');
    onA.client.send(userMessage('t2', 'count twenty words'));
    for (let seen = 0; seen < 5; ) {
      if ((await onA.client.next<Frame>()).type === 'reply.delta') seen += 1;
    }
    const late = await tab(other(await holderOf('t2')), 'u2', 't2');
    const rehydrate = late.first as Frame & {
      threads: Record<string, { replies?: View[] }>;
    };
    expect(rehydrate.type).toBe('rehydrate');
    const [reply] = rehydrate.threads.t2?.replies ?? [];
    expect(reply).toMatchObject({ status: 'streaming', reply_id: expect.any(String) });
    expect(reply!.text.length).toBeGreaterThan(0);
    expect(REPLY.startsWith(reply!.text)).toBe(true);
    expect(reply!.offset).toBe(Buffer.byteLength(reply!.text));
    const frames = await until(late.client, isEnd);
    expect(applyDeltas(frames, reply!.text)).toBe(REPLY);
    expect((frames.at(-1) as { message?: { content: string } }).message?.content).toBe(REPLY);
    expect([...requestsByTurn().values()].every((n) => n === 1)).toBe(true);
  }, 60_000);

  test('messages on both instances: each turn is sent once, a thread’s one at a time and in order', async () => {
    counting = true;
    const [a, b] = cluster.instances as [ClusterInstance, ClusterInstance];
    const threads = ['t3a', 't3b', 't3c'];
    const tabs = await Promise.all(threads.map((thread) => tab(a, 'u3', thread)));
    const before = backend.requests.length;
    const sent: string[] = [];
    for (const [i, thread] of threads.entries()) {
      for (const instance of [a, b, a]) {
        const content = `${thread} via ${instance.id} #${sent.length}`;
        sent.push(content);
        const answer = await instance.api('POST', `/api/v1/threads/${thread}/messages`, {
          id: crypto.randomUUID(),
          user_id: 'u3',
          role: 'user',
          content,
        });
        expect(answer.status).toBe(201);
      }
      let ends = 0;
      await until(tabs[i]!.client, (f) => isEnd(f) && f.thread_id === thread && ++ends === 3);
    }
    const turns = backend.requests
      .slice(before)
      .map((r) => r.body as { message: { content: string } });
    counting = false;
    expect(turns.map((t) => t.message.content)).toEqual(sent);
    expect(mostAtOnce).toBe(1);
    expect([...requestsByTurn().values()].every((n) => n === 1)).toBe(true);
  }, 90_000);

  test('reply.cancel on the other instance stops the stream where it runs: one reply.end, cancelled', async () => {
    await backend.setMode({ kind: 'sse', text: REPLY, deltas: 20, delayMs: 150 });
    const [a] = cluster.instances as [ClusterInstance, ClusterInstance];
    const onA = await tab(a, 'u5', 't5');
    onA.client.send(userMessage('t5', 'count twenty words'));
    const [started] = await until(onA.client, (f) => f.type === 'reply.delta');
    const holder = await holderOf('t5');
    const elsewhere = await tab(other(holder), 'u5', 't5');
    const turnId = String(started?.turn_id);
    const ack = await elsewhere.client.request<Frame>({
      type: 'reply.cancel',
      id: 'c1',
      turn_id: turnId,
    });
    expect(ack).toMatchObject({ type: 'ack', id: 'c1' });
    const frames = await until(elsewhere.client, isEnd);
    expect(frames.at(-1)).toMatchObject({ turn_id: turnId, status: 'cancelled' });
    const request = backend.requests.find((r) => r.headers['webhook-id'] === turnId)!;
    await request.abortedPromise; // the backend saw its client go away
    // Nothing else ends the turn: a later reply on the thread comes next.
    await backend.setMode({ kind: 'sse', text: 'next', deltas: 1 });
    onA.client.send(userMessage('t5', 'again'));
    const after = await until(elsewhere.client, (f) => isEnd(f) && f.turn_id !== turnId);
    expect(after.filter((f) => isEnd(f) && f.turn_id === turnId)).toEqual([]);
    expect(after.at(-1)).toMatchObject({ status: 'complete' });
  }, 60_000);

  test('kill -9 of the streaming instance mid-stream: the other completes the turn, one assistant message', async () => {
    await backend.setMode({ kind: 'sse', text: REPLY, deltas: 20, delayMs: 150 });
    const [a, b] = cluster.instances as [ClusterInstance, ClusterInstance];
    const onA = await tab(a, 'u4', 't4');
    const onB = await tab(b, 'u4', 't4');
    onA.client.send(userMessage('t4', 'count twenty words'));
    await until(onA.client, (f) => f.type === 'reply.delta');
    const holder = await holderOf('t4');
    const survivor = holder === a ? onB : onA;
    holder.kill('SIGKILL');
    await holder.exited;
    await backend.setMode({ kind: 'sse', text: REPLY, deltas: 4, delayMs: 10 });
    const frames = await until(
      survivor.client,
      (f) => isEnd(f) && (f as { status?: string }).status === 'complete',
    );
    expect((frames.at(-1) as { message?: { content: string } }).message?.content).toBe(REPLY);
    const turnId = String(frames.at(-1)?.turn_id);
    const attempts = backend.requests
      .filter((r) => r.headers['webhook-id'] === turnId)
      .map((r) => (r.body as { attempt: number }).attempt);
    expect(attempts).toEqual([1, 2]);
    const state = await other(holder).api('GET', '/api/v1/users/u4/state?thread=t4');
    const body = (await state.json()) as {
      threads: Record<string, { messages: Array<{ role: string; content: string }> }>;
    };
    const replies = (body.threads.t4?.messages ?? []).filter((m) => m.role === 'assistant');
    expect(replies.map((m) => m.content)).toEqual([REPLY]);
  }, 90_000);
});
