/**
 * @module The client's view of the user's state and the pure functions that change it: the
 * `rehydrate` snapshot, replayed and live pushes with the seq rules of docs/design.md#epochs,
 * #snapshot-before-stream, and the client's own acknowledged writes. Every function returns a new
 * deeply frozen state and never mutates its input, so `getState()` can hand out the same object
 * until something changes.
 */
import type {
  MemoryStatus,
  MessageFrame,
  MessageView,
  PushFrame,
  RehydrateFrame,
  ThreadStateFrame,
} from '../src/realtime/protocol.ts';
import type { AssistantStatus, ReplyEndPush } from '../src/realtime/reply-protocol.ts';
import {
  applyDelta,
  type DeltaOutcome,
  type EndedReply,
  endReply,
  type ReplyDelta,
  type ReplyInProgress,
  seedReplies,
  startReply,
  withEnded,
} from './replies.ts';

/** A JSON object as the server sends it. */
export type JsonObject = Readonly<Record<string, unknown>>;

/** One thread as the client holds it. */
export interface ThreadState {
  readonly personalization: JsonObject;
  /** Committed messages, by ascending `seq`, each id once. */
  readonly messages: readonly MessageView[];
  /**
   * Set when the server holds older messages than `messages`: those below this seq. `loadOlder`
   * pages them in with `thread.join` (docs/protocol.md §4.5); absent once the start is reached.
   */
  readonly before?: number;
  /** Assistant replies not yet ended, in the order they started; absent when there are none. */
  readonly replies?: readonly ReplyInProgress[];
  /**
   * How the thread's recent replies ended, newest last (at most 20; absent when none): a failed,
   * expired, empty or text-less cancelled reply has no message, and this is what is left of it.
   */
  readonly ended?: readonly EndedReply[];
}

/** The session part of `rehydrate`. */
export type SessionState = Readonly<RehydrateFrame['session']>;

/** Everything the client knows; an immutable snapshot. */
export interface LifelineState {
  /** True once a `rehydrate` has been applied. */
  readonly ready: boolean;
  /**
   * The event stream the seq values belong to (docs/design.md#epochs); null before the first
   * snapshot.
   */
  readonly epoch: string | null;
  /** The highest event `seq` applied: the `since` of the next resume. */
  readonly seq: number;
  /** The `seq` of the last snapshot: replayed pushes at or below it are already in the snapshot. */
  readonly snapshotSeq: number;
  readonly session: SessionState | null;
  readonly preferences: JsonObject;
  /** Threads by id (a prototype-free record: ids such as `toString` are plain keys). */
  readonly threads: Readonly<Record<string, ThreadState>>;
  readonly memory: MemoryStatus;
  /** The assistant's status (docs/protocol.md §5.5), for a banner; null when none is configured. */
  readonly assistant: AssistantStatus | null;
  /** Messages sent and not yet acknowledged (the offline queue), oldest first. */
  readonly pending: readonly MessageFrame[];
}

/** What {@link applyPush} did with a push. */
export type PushOutcome = 'applied' | 'replayed' | 'duplicate';

/** The most messages kept per thread (the oldest are dropped). */
export const MAX_MESSAGES_PER_THREAD = 1_000;

/** The state before any snapshot. */
export function initialState(): LifelineState {
  return freezeDeep({
    ready: false,
    epoch: null,
    seq: 0,
    snapshotSeq: 0,
    session: null,
    preferences: {},
    threads: Object.create(null) as Record<string, ThreadState>,
    memory: 'ok',
    assistant: null,
    pending: [],
  });
}

/**
 * Applies a `rehydrate`. With `recovered: true` in the same epoch, the snapshot refreshes what it
 * covers and the messages held so far are kept (the replay that follows fills the gap); the
 * resume cursor stays where it was until the replay moves it. Otherwise the snapshot replaces the
 * state and its `seq` becomes the cursor (docs/design.md#epochs: never a partial or wrong replay).
 */
export function applyRehydrate(prev: LifelineState, frame: RehydrateFrame): LifelineState {
  const resumed = frame.recovered && prev.ready && prev.epoch === frame.epoch;
  const threads = resumed ? copyRecord(prev.threads) : nullRecord<ThreadState>();
  for (const [id, view] of Object.entries(frame.threads)) {
    const kept = resumed ? threads[id] : undefined;
    // The snapshot's open replies are the server's view now: they replace those held.
    threads[id] = withCursor(
      view.personalization,
      mergeMessages(kept?.messages ?? [], view.messages),
      cursorOf(kept?.before, view.before),
      { replies: seedReplies(view.replies), ended: kept?.ended ?? [] },
    );
  }
  return freezeDeep({
    ...prev,
    ready: true,
    epoch: frame.epoch,
    seq: resumed ? Math.min(prev.seq, frame.seq) : frame.seq,
    snapshotSeq: frame.seq,
    session: frame.session,
    preferences: frame.preferences,
    threads,
    memory: frame.memory.status,
    assistant: frame.assistant?.status ?? null,
  });
}

/**
 * Applies a pushed event. A `seq` at or below the cursor is a duplicate and changes nothing. A
 * `seq` at or below the snapshot's is a replayed event the snapshot already reflects: only what
 * the snapshot may lack (a message) is added, so state never moves backwards. Anything newer is
 * applied in full. The cursor moves to the push's `seq` unless it was a duplicate.
 */
export function applyPush(
  prev: LifelineState,
  frame: PushFrame,
): { state: LifelineState; outcome: PushOutcome } {
  if (frame.seq <= prev.seq) return { state: prev, outcome: 'duplicate' };
  const replayed = frame.seq <= prev.snapshotSeq;
  const moved: LifelineState = { ...prev, seq: frame.seq };
  let next: LifelineState = moved;
  if (frame.type === 'message') {
    next = withMessages(moved, frame.message.thread_id, [frame.message]);
  } else if (frame.type === 'reply.end') {
    // Replayed or live: an ended reply is never in progress, whatever the snapshot held.
    next = withReplyEnd(moved, frame);
  } else if (!replayed) {
    next = applyLivePush(moved, frame);
  }
  return { state: freezeDeep(next), outcome: replayed ? 'replayed' : 'applied' };
}

function applyLivePush(state: LifelineState, frame: PushFrame): LifelineState {
  switch (frame.type) {
    case 'preferences':
      return { ...state, preferences: frame.preferences };
    case 'personalization':
      return withPersonalization(state, frame.thread_id, frame.state);
    case 'memory':
      return { ...state, memory: frame.status };
    case 'assistant':
      return { ...state, assistant: frame.status };
    case 'reply.start':
      return withReplies(state, frame.thread_id, (thread) =>
        startReply(thread.replies ?? [], frame),
      );
    default:
      return state;
  }
}

/** The turn's reply leaves the replies in progress; its message (or its failure) stays. */
function withReplyEnd(state: LifelineState, frame: ReplyEndPush): LifelineState {
  const withMessage =
    frame.message === undefined
      ? state
      : withMessages(state, frame.thread_id, [frame.message as MessageView]);
  const thread = withMessage.threads[frame.thread_id];
  if (!thread) return withMessage;
  const { replies, ended } = endReply(thread.replies ?? [], frame);
  const threads = copyRecord(withMessage.threads);
  threads[frame.thread_id] = threadOf({
    ...thread,
    replies,
    ended: withEnded(thread.ended ?? [], ended),
  });
  return { ...withMessage, threads };
}

/**
 * Applies a `reply.delta` (docs/protocol.md §5.5) to a thread the state holds; deltas of other
 * threads are ignored (their snapshot brings the text when they are loaded). `gap` asks the
 * caller to resynchronise the thread.
 */
export function applyReplyDelta(
  prev: LifelineState,
  frame: ReplyDelta,
): { state: LifelineState; outcome: DeltaOutcome } {
  const thread = prev.threads[frame.thread_id];
  if (!thread) return { state: prev, outcome: 'ignored' };
  const { replies, outcome } = applyDelta(thread.replies ?? [], frame);
  if (replies === thread.replies) return { state: prev, outcome };
  const threads = copyRecord(prev.threads);
  threads[frame.thread_id] = threadOf({ ...thread, replies });
  return { state: freezeDeep({ ...prev, threads }), outcome };
}

function withReplies(
  state: LifelineState,
  threadId: string,
  change: (thread: ThreadState) => readonly ReplyInProgress[],
): LifelineState {
  const thread = state.threads[threadId] ?? { personalization: {}, messages: [] };
  const replies = change(thread);
  if (replies === thread.replies) return state;
  const threads = copyRecord(state.threads);
  threads[threadId] = threadOf({ ...thread, replies });
  return { ...state, threads };
}

/** A thread without the optional lists that are empty. */
function threadOf(thread: ThreadState): ThreadState {
  const { replies, ended, ...rest } = thread;
  return {
    ...rest,
    ...(replies && replies.length > 0 ? { replies } : {}),
    ...(ended && ended.length > 0 ? { ended } : {}),
  };
}

/**
 * Adds the client's own message once its `ack` gives it a `seq`; the cursor does not move. With
 * the ack's `turnId`, the turn is held as a `queued` reply until its `reply.start` (no frame says
 * a turn is queued), unless it already started or ended.
 */
export function applyOwnMessage(
  prev: LifelineState,
  frame: MessageFrame,
  seq: number,
  createdAt: string,
  turnId?: string,
): LifelineState {
  const view: MessageView = {
    id: frame.id,
    thread_id: frame.thread_id,
    role: frame.role,
    content: frame.content,
    created_at: createdAt,
    seq,
    ...(frame.metadata === undefined ? {} : { metadata: frame.metadata }),
  };
  const state = withMessages(prev, frame.thread_id, [view]);
  if (turnId === undefined) return freezeDeep(state);
  const queued: ReplyInProgress = { turnId, status: 'queued', text: '', offset: 0 };
  return freezeDeep(
    withReplies(state, frame.thread_id, (thread) => {
      const known = [...(thread.replies ?? []), ...(thread.ended ?? [])];
      if (known.some((entry) => entry.turnId === turnId)) return thread.replies ?? [];
      return [...(thread.replies ?? []), queued];
    }),
  );
}

/** Sets preferences the client itself wrote (after the `ack`). */
export function applyOwnPreferences(prev: LifelineState, preferences: JsonObject): LifelineState {
  return freezeDeep({ ...prev, preferences });
}

/** Sets a thread's personalization the client itself wrote (after the `ack`). */
export function applyOwnPersonalization(
  prev: LifelineState,
  threadId: string,
  personalization: JsonObject,
): LifelineState {
  return freezeDeep(withPersonalization(prev, threadId, personalization));
}

/**
 * Applies the `thread.state` answer to `thread.join`: its messages join those held (in `seq`
 * order, each id once). A page of older messages (`paged`, the answer to `before`) moves the
 * thread's cursor to the page's own; a plain join lowers it at most (what is held stays held).
 */
export function applyThreadState(
  prev: LifelineState,
  frame: ThreadStateFrame,
  paged = false,
): LifelineState {
  const threads = copyRecord(prev.threads);
  const held = threads[frame.thread_id];
  const before = paged ? frame.before : cursorOf(held?.before, frame.before);
  const messages = mergeMessages(held?.messages ?? [], frame.messages);
  threads[frame.thread_id] = withCursor(frame.personalization, messages, before, held);
  return freezeDeep({ ...prev, threads });
}

/**
 * The cursor after merging a snapshot or page into what is held: none when the server sent
 * everything from the thread's start; else the lower of the two (held messages are contiguous).
 */
function cursorOf(held: number | undefined, received: number | undefined): number | undefined {
  if (received === undefined) return undefined;
  return held === undefined ? received : Math.min(held, received);
}

/** A thread; when the message cap dropped the oldest, the cursor moves up to the oldest kept. */
function withCursor(
  personalization: JsonObject,
  messages: readonly MessageView[],
  before: number | undefined,
  lists: Pick<ThreadState, 'replies' | 'ended'> = {},
): ThreadState {
  const oldest = messages[0]?.seq;
  const capped = messages.length >= MAX_MESSAGES_PER_THREAD && oldest !== undefined;
  const cursor = capped && (before === undefined || before < oldest) ? oldest : before;
  const extra = { replies: lists.replies, ended: lists.ended };
  return threadOf(
    cursor === undefined
      ? { personalization, messages, ...extra }
      : { personalization, messages, before: cursor, ...extra },
  );
}

/** Replaces the list of unacknowledged messages. */
export function withPending(prev: LifelineState, pending: readonly MessageFrame[]): LifelineState {
  return freezeDeep({ ...prev, pending: [...pending] });
}

/** Records a refreshed token's expiry. */
export function withTokenExpiry(prev: LifelineState, tokenExpiresAt: string): LifelineState {
  if (!prev.session) return prev;
  return freezeDeep({ ...prev, session: { ...prev.session, token_expires_at: tokenExpiresAt } });
}

function withPersonalization(
  state: LifelineState,
  threadId: string,
  personalization: JsonObject,
): LifelineState {
  const threads = copyRecord(state.threads);
  const thread = threads[threadId];
  threads[threadId] = threadOf({ ...thread, personalization, messages: thread?.messages ?? [] });
  return { ...state, threads };
}

function withMessages(
  state: LifelineState,
  threadId: string,
  added: readonly MessageView[],
): LifelineState {
  const threads = copyRecord(state.threads);
  const thread = threads[threadId];
  const messages = mergeMessages(thread?.messages ?? [], added);
  threads[threadId] = withCursor(thread?.personalization ?? {}, messages, thread?.before, thread);
  return { ...state, threads };
}

/** Union by id (the first copy wins), sorted by `seq`, keeping the newest {@link MAX_MESSAGES_PER_THREAD}. */
export function mergeMessages(
  held: readonly MessageView[],
  added: readonly MessageView[],
): readonly MessageView[] {
  const known = new Set(held.map((message) => message.id));
  const fresh = added.filter((message) => !known.has(message.id) && known.add(message.id));
  if (fresh.length === 0) return held;
  const merged = [...held, ...fresh].sort((a, b) => a.seq - b.seq);
  return merged.length > MAX_MESSAGES_PER_THREAD
    ? merged.slice(merged.length - MAX_MESSAGES_PER_THREAD)
    : merged;
}

function nullRecord<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

function copyRecord<T>(source: Readonly<Record<string, T>>): Record<string, T> {
  return Object.assign(nullRecord<T>(), source);
}

/** Freezes `value` and everything reachable from it; already frozen parts are skipped. */
function freezeDeep<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value;
  for (const key of Object.keys(value)) freezeDeep((value as Record<string, unknown>)[key]);
  return Object.freeze(value);
}
