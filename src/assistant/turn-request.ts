/**
 * @module The request a turn sends its assistant (docs/assistant.md "The request"): the message,
 * the thread's last messages ending with it, preferences, personalization and what memory knows —
 * searched through the memory breaker, so while memory is down the assistant gets
 * `{status: "write_only", degraded: true, results: []}` at once and never waits on it.
 */
import type { Config } from '../config/schema.ts';
import type { MemoryPort } from '../realtime/memory-port.ts';
import { memoryResultView, messageView } from '../realtime/push.ts';
import type { Store, StoredMessage } from '../storage/store.ts';
import type { StoredTurn } from '../storage/turns.ts';
import type { TurnMemory, TurnMessage, TurnRequestBody } from './source.ts';

/** What building a request reads. */
export interface TurnRequestOptions {
  store: Pick<Store, 'readSnapshot'>;
  memory: Pick<MemoryPort, 'search' | 'status' | 'context'>;
  config: Config;
  /** The daemon's public base URL for `reply_url` (e.g. `http://127.0.0.1:8080`). */
  baseUrl: string;
}

function turnMessage(message: StoredMessage): TurnMessage {
  const { thread_id: _thread, ...view } = messageView(message);
  return view;
}

/** The body of attempt `attempt` of `turn`; null when its message is gone (thread deleted). */
export async function buildTurnRequest(
  options: TurnRequestOptions,
  turn: StoredTurn,
  attempt: number,
): Promise<TurnRequestBody | null> {
  const { store, config } = options;
  const snapshot = await store.readSnapshot(
    turn.userId,
    [turn.threadId],
    config.assistant.history_messages,
    { beforeSeq: turn.messageSeq + 1 },
  );
  const thread = snapshot.threads[turn.threadId];
  const asked = thread?.messages.find((message) => message.id === turn.messageId);
  if (thread === undefined || asked === undefined) return null;
  return {
    type: 'turn',
    turn_id: turn.turnId,
    attempt,
    user_id: turn.userId,
    thread_id: turn.threadId,
    message: turnMessage(asked),
    history: thread.messages.map(turnMessage),
    preferences: snapshot.preferences ?? {},
    personalization: thread.personalization ?? {},
    memory: await memoryOf(options, turn, asked.content),
    reply_url: `${options.baseUrl}/api/v1/turns/${encodeURIComponent(turn.turnId)}/reply`,
  };
}

async function memoryOf(
  options: TurnRequestOptions,
  turn: StoredTurn,
  query: string,
): Promise<TurnMemory> {
  const { memory, config } = options;
  const status = memory.status();
  const limit = config.assistant.memory_results;
  if (status !== 'ok') return { status, degraded: true, results: [] };
  const [found, context] = await Promise.all([
    limit === 0 || query.trim() === ''
      ? { results: [], degraded: false }
      : memory.search({ userId: turn.userId, threadId: turn.threadId, query, limit }),
    memory.context?.(turn.userId, turn.threadId) ?? { context: null, degraded: false },
  ]);
  const results = found.results
    .filter((hit) => hit.uuid !== turn.messageId)
    .map((hit) => memoryResultView(hit) as Record<string, unknown>);
  const degraded = found.degraded || context.degraded;
  return {
    status: degraded ? 'write_only' : status,
    degraded,
    results,
    ...(context.context === null ? {} : { context: context.context }),
  };
}
