/**
 * @module A `ChatTransport` for the AI SDK (`ai` 7, a peer dependency of this entry only, used for
 * its types): `useChat({ id: threadId, transport: lifelineTransport(client) })` sends the user's
 * message as a lifeline `message` and streams the assistant's reply from the client's state, so
 * the reply survives reconnects, reloads and daemon restarts (docs/protocol.md §5.5). The chat id
 * is the thread id. Stop sends `reply.cancel`. `reconnectToStream` (the chat's `resumeStream()`)
 * resumes a reply in progress from the text so far, first chunk the whole text: a replay
 * (`resumeStreamIsReplay`).
 *
 * @example
 * const client = connect({ url: '/ws', token: fetchToken, thread: 't1' });
 * const chat = useChat({ id: 't1', transport: lifelineTransport(client), resume: true });
 */
import type { ChatTransport, UIMessage, UIMessageChunk } from 'ai';
import type { LifelineClient } from './index.ts';
import { type ReplyWatch, watchReply } from './reply-stream.ts';

/** The transport; one per client is enough (it holds no per-chat resources). */
export function lifelineTransport(client: LifelineClient): ChatTransport<UIMessage> {
  return new LifelineChatTransport(client);
}

const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

class LifelineChatTransport implements ChatTransport<UIMessage> {
  /** The resumed stream starts with the whole text so far (docs/protocol.md §5.5). */
  readonly resumeStreamIsReplay = true;
  /** Resume requests started per chat: an abort that a newer resume follows is not a stop. */
  private readonly resumes = new Map<string, number>();

  constructor(private readonly client: LifelineClient) {}

  async sendMessages(
    options: Parameters<ChatTransport<UIMessage>['sendMessages']>[0],
  ): Promise<ReadableStream<UIMessageChunk>> {
    if (options.trigger === 'regenerate-message') {
      throw new Error('lifelineTransport: regenerate is not supported; send a new message instead');
    }
    const last = options.messages.at(-1);
    if (last?.role !== 'user') {
      throw new Error('lifelineTransport: the last message must be the user message to send');
    }
    const content = last.parts.map((part) => (part.type === 'text' ? part.text : '')).join('');
    const id = await messageUuid(options.chatId, last.id);
    const ack = await this.client.send({ thread_id: options.chatId, content, id });
    if (ack.turnId === undefined) {
      throw new Error(
        'lifelineTransport: the server answered no assistant turn; set assistant.backend (docs/assistant.md)',
      );
    }
    const turnId = ack.turnId;
    const signal = options.abortSignal;
    // An abort before the ack (still sending) is seen by streamOf at once.
    const stop = () => void this.client.cancelReply(turnId).catch(() => {});
    return streamOf(watchReply(this.client, options.chatId, turnId), signal, stop);
  }

  async reconnectToStream(
    options: Parameters<ChatTransport<UIMessage>['reconnectToStream']>[0],
  ): Promise<ReadableStream<UIMessageChunk> | null> {
    const { chatId, abortSignal } = options;
    const generation = (this.resumes.get(chatId) ?? 0) + 1;
    this.resumes.set(chatId, generation);
    await readyState(this.client, abortSignal);
    if (abortSignal?.aborted) return null;
    const reply = this.client.getState().threads[chatId]?.replies?.at(-1);
    if (reply === undefined) return null;
    // React StrictMode resumes twice: the first request is aborted in the same turn as the second
    // starts. Only an abort no newer resume followed is the user's stop.
    const stop = () =>
      queueMicrotask(() => {
        if (this.resumes.get(chatId) !== generation) return;
        this.client.cancelReply(reply.turnId).catch(() => {});
      });
    return streamOf(watchReply(this.client, chatId, reply.turnId), abortSignal, stop);
  }
}

/** The chunks of one reply as a stream; an abort of `signal` calls `stop` and closes it. */
function streamOf(
  watch: ReplyWatch,
  signal: AbortSignal | undefined,
  stop: () => void,
): ReadableStream<UIMessageChunk> {
  return new ReadableStream<UIMessageChunk>({
    start(controller) {
      const onAbort = () => {
        watch.close();
        stop();
        try {
          controller.close();
        } catch {
          // Already closed or cancelled by the reader.
        }
      };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      watch.start(
        (chunk) => controller.enqueue(chunk as UIMessageChunk),
        () => {
          signal?.removeEventListener('abort', onAbort);
          controller.close();
        },
      );
    },
    cancel() {
      watch.close();
    },
  });
}

/** Resolves once the client has its first snapshot (or at once when `signal` aborts). */
function readyState(client: LifelineClient, signal: AbortSignal | undefined): Promise<void> {
  if (client.getState().ready || signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      unsubscribe();
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const unsubscribe = client.subscribe(() => {
      if (client.getState().ready || client.getStatus().state === 'closed') done();
    });
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * The lifeline message id for a chat message: its own id when it is a UUID (give the chat
 * `generateId: () => crypto.randomUUID()`), else a UUID derived from the chat and message ids,
 * so a resend of the same message carries the same UUID (docs/design.md#duplicate-ids).
 */
async function messageUuid(chatId: string, messageId: string): Promise<string> {
  if (UUID.test(messageId)) return messageId;
  const input = new TextEncoder().encode(`${chatId}\u0000${messageId}`);
  const bytes = new Uint8Array(await crypto.subtle.digest('SHA-256', input)).slice(0, 16);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x80; // version 8: application-defined
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = [...bytes].map((byte) => byte.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
