/**
 * @module One attempt of a turn and the ways a turn ends (docs/assistant.md "A turn"). An attempt
 * pushes `reply.start` (a history event), streams the source's text to every tab of the user as
 * `reply.delta` frames (live only, serialised once by the hub), persists the text so far at most
 * every {@link PERSIST_EVERY_MS} or {@link PERSIST_EVERY_BYTES}, and resolves with how it ended.
 * A reply that ends with text is committed as an `assistant` message through the one message
 * pipeline, ending its turn in the same transaction, then `reply.end` is pushed.
 */
import type { Clock } from '../lib/clock.ts';
import type { Logger } from '../lib/log.ts';
import { utf8Bytes } from '../lib/text.ts';
import type { Metrics } from '../metrics/registry.ts';
import type { MemoryPort } from '../realtime/memory-port.ts';
import { commitMessage } from '../realtime/message-pipeline.ts';
import type { PushFrame, ServerFrame } from '../realtime/protocol.ts';
import { messageView, toPushFrame } from '../realtime/push.ts';
import type { ReplyEndStatus } from '../realtime/reply-protocol.ts';
import type { Store } from '../storage/store.ts';
import type { StoredTurn } from '../storage/turns.ts';
import type { AttemptEnd, AttemptSource, TurnRequestBody } from './source.ts';

/** Longest time streamed text goes unpersisted. */
const PERSIST_EVERY_MS = 1000;
/** Most streamed bytes left unpersisted. */
const PERSIST_EVERY_BYTES = 16_384;

/** What attempts and endings need. */
export interface TurnContext {
  store: Pick<Store, 'updateTurn' | 'appendEvent'>;
  memory: Pick<MemoryPort, 'submit'>;
  /** Publishes a history event to the user's sockets. */
  fanOut(userId: string, frame: PushFrame): Promise<void>;
  /** Sends a live frame to every socket of the user. */
  deliver(userId: string, frame: ServerFrame): void;
  clock: Clock;
  logger: Logger;
  persistEveryMs?: number;
  /** Turn outcomes and first-text latency (absent in unit tests that do not look). */
  metrics?: Pick<Metrics, 'assistantTurns' | 'assistantFirstDeltaSeconds'>;
}

/** An attempt in progress: what `rehydrate` and GET /api/v1/turns/:id show of it. */
export interface LiveReply {
  userId: string;
  threadId: string;
  turnId: string;
  replyId: string;
  text: string;
  /** UTF-8 bytes of `text`. */
  offset: number;
  /** `queued` until the first attempt starts; a deferred reply stays queued until its upload. */
  status: 'queued' | 'streaming';
}

/** Records a history event and pushes it. */
async function pushEvent(
  cx: TurnContext,
  userId: string,
  type: string,
  payload: Record<string, unknown>,
): Promise<void> {
  const seq = await cx.store.appendEvent(userId, type, payload);
  const frame = toPushFrame(type, seq, payload);
  if (frame !== undefined) await cx.fanOut(userId, frame);
}

/** Starts attempt `attempt` of `turn`: stores it, pushes `reply.start`, returns its live reply. */
export async function startAttempt(
  cx: TurnContext,
  turn: StoredTurn,
  attempt: number,
): Promise<LiveReply> {
  const replyId = crypto.randomUUID();
  await cx.store.updateTurn(turn.turnId, {
    status: 'streaming',
    attempt,
    replyId,
    text: '',
    nextAttemptAtWallMs: null,
  });
  await pushEvent(cx, turn.userId, 'reply.start', {
    turn_id: turn.turnId,
    thread_id: turn.threadId,
    reply_id: replyId,
    message_id: turn.messageId,
  });
  const { userId, threadId, turnId } = turn;
  return { userId, threadId, turnId, replyId, text: '', offset: 0, status: 'streaming' };
}

/** A sink that appends to `reply`, sends each piece as a delta and persists at a bounded rate. */
export function replySink(cx: TurnContext, reply: LiveReply, onFirstText?: () => void) {
  const startedAt = cx.clock.monoMs();
  let persistedAt = startedAt;
  let persistedBytes = 0;
  let first = true;
  return async (text: string): Promise<void> => {
    if (text === '') return;
    if (first) {
      first = false;
      cx.metrics?.assistantFirstDeltaSeconds.observe((cx.clock.monoMs() - startedAt) / 1000);
      onFirstText?.();
    }
    cx.deliver(reply.userId, {
      type: 'reply.delta',
      turn_id: reply.turnId,
      thread_id: reply.threadId,
      reply_id: reply.replyId,
      offset: reply.offset,
      text,
    });
    reply.status = 'streaming';
    reply.text += text;
    reply.offset += utf8Bytes(text);
    const due = cx.clock.monoMs() - persistedAt >= (cx.persistEveryMs ?? PERSIST_EVERY_MS);
    if (due || reply.offset - persistedBytes >= PERSIST_EVERY_BYTES) {
      persistedAt = cx.clock.monoMs();
      persistedBytes = reply.offset;
      await cx.store.updateTurn(reply.turnId, { text: reply.text });
    }
  };
}

/** Runs `source` for one attempt; a throwing source is an `unavailable` attempt. */
export async function runSource(
  source: AttemptSource,
  body: TurnRequestBody,
  sink: (text: string) => Promise<void>,
  signal: AbortSignal,
): Promise<AttemptEnd> {
  try {
    return await source(body.turn_id, body, sink, signal);
  } catch (error) {
    if (signal.aborted) return { kind: 'aborted' };
    return { kind: 'unavailable', message: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * Ends `turn` with the reply text it has: committed as the assistant message when there is text
 * (`complete`, or `cancelled` midway), else only `reply.end` with `status`.
 */
export async function endWithReply(
  cx: TurnContext,
  turn: StoredTurn,
  reply: LiveReply,
  status: 'complete' | 'cancelled',
  metadata?: Record<string, unknown>,
): Promise<void> {
  if (reply.text === '') {
    await endTurn(cx, turn, reply.replyId, status === 'complete' ? 'empty' : status, '');
    return;
  }
  const result = await commitMessage(
    { memory: cx.memory, fanOut: (userId, frame) => cx.fanOut(userId, frame) },
    {
      userId: turn.userId,
      threadId: turn.threadId,
      id: reply.replyId,
      role: 'assistant',
      content: reply.text,
      ...(metadata === undefined ? {} : { metadata }),
      completesTurn: turn.turnId,
      completesAs: status,
    },
  );
  if (result.kind !== 'ok') {
    const why = result.kind === 'rejected' ? result.message : result.kind;
    await endTurn(cx, turn, reply.replyId, 'failed', reply.text, {
      code: 'reply_refused',
      message: `the reply could not be stored: ${why}`,
    });
    return;
  }
  cx.metrics?.assistantTurns.inc({ outcome: status });
  await pushEvent(cx, turn.userId, 'reply.end', {
    turn_id: turn.turnId,
    thread_id: turn.threadId,
    reply_id: reply.replyId,
    status,
    ...(result.duplicate ? {} : { message: messageView(result.message) }),
  });
}

/** Ends `turn` without a committed reply; `text` is what was streamed (kept on the turn). */
export async function endTurn(
  cx: TurnContext,
  turn: StoredTurn,
  replyId: string | null,
  status: ReplyEndStatus,
  text: string,
  error?: { code: string; message: string },
): Promise<void> {
  await cx.store.updateTurn(turn.turnId, {
    status,
    text,
    error: error === undefined ? null : `${error.code}: ${error.message}`,
  });
  cx.metrics?.assistantTurns.inc({ outcome: status });
  await pushEvent(cx, turn.userId, 'reply.end', {
    turn_id: turn.turnId,
    thread_id: turn.threadId,
    reply_id: replyId ?? turn.replyId ?? turn.turnId,
    status,
    ...(text === '' ? {} : { text }),
    ...(error === undefined ? {} : { error }),
  });
}
