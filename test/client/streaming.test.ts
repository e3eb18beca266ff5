/**
 * Streamed replies through the client and the AI SDK transport against the real realtime server
 * with the demo assistant (in process, port 0, fresh SQLite, Bun's WebSocket). The transport is
 * driven by the `ai` package's own chat class.
 */
import { afterEach, describe, expect, test } from 'bun:test';
import { AbstractChat, type ChatState, type ChatStatus, type UIMessage } from 'ai';
import { lifelineTransport } from '../../client/ai-sdk.ts';
import { connect, type LifelineClient, type WebSocketLike } from '../../client/index.ts';
import { type Harness, startRealtime } from '../support/realtime-harness.ts';
import { waitFor } from '../support/spawn.ts';

const opened: Array<LifelineClient | Harness> = [];
afterEach(async () => {
  for (const item of opened.splice(0).reverse()) {
    if ('close' in item) item.close();
    else await item[Symbol.asyncDispose]();
  }
});

/** The demo's reply to `content` when memory has nothing related. */
const demoText = (content: string) =>
  `You said: “${content}”. This is the demo assistant; set assistant.backend = "http" to answer with your own.`;

async function server(wordDelayMs: number): Promise<Harness> {
  const h = await startRealtime({ assistant: { wordDelayMs } });
  opened.push(h);
  return h;
}

/** A client whose current socket the test can drop (as a network failure would). */
function client(h: Harness, thread = 't1') {
  const live: { socket?: WebSocket } = {};
  const socket = (url: string, protocols: string[]): WebSocketLike => {
    live.socket = new WebSocket(url, protocols);
    return live.socket as unknown as WebSocketLike;
  };
  const c = connect({
    url: h.wsUrl,
    token: () => h.token('u1'),
    thread,
    socket,
    backoff: { baseMs: 10, capMs: 50 },
  });
  opened.push(c);
  return Object.assign(c, { drop: () => live.socket?.close(1000, 'dropped by the test') });
}

/** The smallest concrete chat over the AI SDK's `AbstractChat`. */
class TestChat extends AbstractChat<UIMessage> {
  constructor(init: Omit<ConstructorParameters<typeof AbstractChat<UIMessage>>[0], 'state'>) {
    super({ ...init, state: new ArrayState() });
  }

  /** The texts the assistant messages showed, in order. */
  get shown(): string[] {
    return (this.state as ArrayState).shown;
  }
}

class ArrayState implements ChatState<UIMessage> {
  status: ChatStatus = 'ready';
  error: Error | undefined = undefined;
  messages: UIMessage[] = [];
  /** Every text an assistant message showed, in order. */
  readonly shown: string[] = [];
  pushMessage = (message: UIMessage) => {
    this.messages = [...this.messages, message];
    this.record(message);
  };
  popMessage = () => {
    this.messages = this.messages.slice(0, -1);
  };
  replaceMessage = (index: number, message: UIMessage) => {
    this.messages = this.messages.map((old, i) => (i === index ? message : old));
    this.record(message);
  };
  private record(message: UIMessage): void {
    if (message.role === 'assistant') this.shown.push(textOf(message));
  }
  snapshot = <T>(thing: T): T => structuredClone(thing);
}

const textOf = (message: UIMessage | undefined) =>
  (message?.parts ?? []).map((part) => (part.type === 'text' ? part.text : '')).join('');
const assistants = (chat: TestChat) => chat.messages.filter((m) => m.role === 'assistant');
const streamingText = (c: LifelineClient) => c.getState().threads.t1?.replies?.[0]?.text ?? '';
const endedOf = (c: LifelineClient) => c.getState().threads.t1?.ended ?? [];

describe('streamed replies through the client', () => {
  test('two clients see only prefixes of the answer while it streams, then the same message', async () => {
    const h = await server(5);
    const a = client(h);
    const b = client(h);
    await waitFor(() => a.getState().ready && b.getState().ready);
    const seen: string[] = [];
    b.subscribe(() => seen.push(streamingText(b)));
    const { turnId } = await a.send({ thread_id: 't1', content: 'hello there' });
    expect(turnId).toBeString();
    await waitFor(() => endedOf(a).length === 1 && endedOf(b).length === 1);
    const final = demoText('hello there');
    for (const c of [a, b]) {
      expect(endedOf(c)).toEqual([
        {
          turnId: turnId as string,
          replyId: expect.any(String),
          status: 'complete',
          messageId: expect.any(String),
        },
      ]);
      expect(c.getState().threads.t1?.messages.map((m) => [m.role, m.content])).toEqual([
        ['user', 'hello there'],
        ['assistant', final],
      ]);
    }
    expect(seen.some((text) => text.length > 0 && text.length < final.length)).toBe(true);
    for (const text of seen) expect(final.startsWith(text)).toBe(true);
  });

  test('cancelReply ends the turn cancelled and commits the text so far', async () => {
    const h = await server(40);
    const a = client(h);
    await waitFor(() => a.getState().ready);
    const { turnId } = await a.send({ thread_id: 't1', content: 'stop me' });
    await waitFor(() => streamingText(a).length > 0);
    await a.cancelReply(turnId as string);
    await waitFor(() => endedOf(a).length === 1);
    expect(endedOf(a)[0]?.status).toBe('cancelled');
    const committed = a.getState().threads.t1?.messages.at(-1);
    expect(committed?.role).toBe('assistant');
    expect(demoText('stop me').startsWith(committed?.content ?? '-')).toBe(true);
    expect(committed?.content.length).toBeLessThan(demoText('stop me').length);
  });

  test('a socket dropped mid-stream resumes with the text so far and ends with the exact answer', async () => {
    const h = await server(20);
    const a = client(h);
    await waitFor(() => a.getState().ready);
    await a.send({ thread_id: 't1', content: 'keep going' });
    await waitFor(() => streamingText(a).length > 0);
    a.drop();
    await waitFor(() => endedOf(a).length === 1);
    expect(a.getState().threads.t1?.messages.at(-1)?.content).toBe(demoText('keep going'));
  });
});

describe('the AI SDK transport with the ai package chat', () => {
  test('sendMessage streams the assistant message in and completes with the demo text', async () => {
    const h = await server(5);
    const c = client(h);
    const chat = new TestChat({ id: 't1', transport: lifelineTransport(c) });
    await chat.sendMessage({ text: 'hi chat' });
    const final = demoText('hi chat');
    expect(chat.status).toBe('ready');
    expect(chat.messages.map((m) => m.role)).toEqual(['user', 'assistant']);
    expect(textOf(chat.lastMessage)).toBe(final);
    // It streamed in: partial texts were shown first, each a prefix of the answer.
    expect(chat.shown.some((text) => text.length > 0 && text.length < final.length)).toBe(true);
    for (const text of chat.shown) expect(final.startsWith(text)).toBe(true);
    expect(chat.lastMessage?.id).toBe(c.getState().threads.t1?.messages.at(-1)?.id as string);
  });

  test('stop cancels the turn on the server: its reply ends cancelled', async () => {
    const h = await server(40);
    const c = client(h);
    const chat = new TestChat({ id: 't1', transport: lifelineTransport(c) });
    const sending = chat.sendMessage({ text: 'please stop' });
    await waitFor(() => textOf(assistants(chat)[0]).length > 0);
    await chat.stop();
    await sending;
    await waitFor(() => endedOf(c).length === 1);
    expect(endedOf(c)[0]?.status).toBe('cancelled');
    expect(chat.status).toBe('ready');
    expect(demoText('please stop').startsWith(textOf(assistants(chat)[0]))).toBe(true);
  });

  test('a reconnect mid-stream: the sending chat and a resumed chat both end with the exact text, once', async () => {
    const h = await server(20);
    const a = client(h);
    const chat = new TestChat({ id: 't1', transport: lifelineTransport(a) });
    const sending = chat.sendMessage({ text: 'survive this' });
    await waitFor(() => textOf(assistants(chat)[0]).length > 0);
    a.drop();
    // A second page (a reload) connects mid-stream and resumes.
    const soFar = streamingText(a);
    const b = client(h);
    const resumed = new TestChat({ id: 't1', transport: lifelineTransport(b) });
    await resumed.resumeStream();
    await sending;
    const final = demoText('survive this');
    expect(assistants(chat).map(textOf)).toEqual([final]);
    expect(assistants(resumed).map(textOf)).toEqual([final]);
    expect(resumed.status).toBe('ready');
    // The resumed chat showed the text so far at once (one chunk), never an empty restart.
    const first = resumed.shown.find((text) => text.length > 0) ?? '';
    expect(first.length).toBeGreaterThanOrEqual(soFar.length);
    for (const text of [...chat.shown, ...resumed.shown]) expect(final.startsWith(text)).toBe(true);
  });

  test('a second resume (StrictMode, a reconnect handler) aborts the first without cancelling the reply', async () => {
    const h = await server(20);
    const a = client(h);
    await waitFor(() => a.getState().ready);
    await a.send({ thread_id: 't1', content: 'strict mode' });
    await waitFor(() => streamingText(a).length > 0);
    const b = client(h);
    const chat = new TestChat({ id: 't1', transport: lifelineTransport(b) });
    // The chat aborts the first resume when the second starts: in one turn (StrictMode's double
    // effect) or, as here, while the first is already streaming.
    const first = chat.resumeStream();
    await waitFor(() => chat.shown.some((text) => text.length > 0));
    const second = chat.resumeStream();
    await Promise.all([first, second]);
    await waitFor(() => endedOf(a).length === 1);
    expect(endedOf(a)[0]?.status).toBe('complete');
    expect(assistants(chat).map(textOf)).toEqual([demoText('strict mode')]);
  });

  test('resumeStream with no reply in progress returns at once and changes nothing', async () => {
    const h = await server(5);
    const c = client(h);
    const chat = new TestChat({ id: 't1', transport: lifelineTransport(c) });
    await chat.resumeStream();
    expect(chat.messages).toEqual([]);
    expect(chat.status).toBe('ready');
  });
});
