/**
 * @module The rehydrate snapshot and the resume decision (docs/design.md#websocket, #epochs,
 * #snapshot-before-stream). Built from the local database alone — never from the memory service —
 * so a memory outage cannot slow a reconnect. The HTTP `GET /users/:user/state` route serves the
 * same content.
 */
import type { Store } from '../storage/store.ts';
import type { MemoryStatus, PushFrame, ThreadView } from './protocol.ts';
import { messageView, objectOrEmpty, toPushFrame } from './push.ts';
import { baseBytes, fitThreads, type ReadThread, readThreadOf } from './snapshot-budget.ts';

/** Most events a resume replays; more → `recovered:false` (docs/design.md#epochs). */
const MAX_REPLAY_EVENTS = 300;
/** Most `?thread=` values honoured per connect or state request (decision). */
const MAX_SNAPSHOT_THREADS = 16;
/** Bytes kept for what the rehydrate adds to the state: `type`, `recovered`, `session`. */
const SESSION_RESERVE_BYTES = 512;

/** What a rehydrate frame (or the HTTP state) holds besides the session. */
export interface StateView {
  epoch: string;
  seq: number;
  preferences: Record<string, unknown>;
  threads: Record<string, ThreadView>;
  memory: { status: MemoryStatus };
}

/** The resume request of a connect: `?since=` with `?epoch=`. */
export interface ResumeRequest {
  since: number;
  epoch: string;
}

/** Reads the epoch once per store; it changes only with a restored database (a new process). */
export function epochReader(store: Pick<Store, 'epoch'>): () => Promise<string> {
  let cached: Promise<string> | undefined;
  return () => {
    cached ??= store.epoch().catch((error: unknown) => {
      cached = undefined;
      throw error;
    });
    return cached;
  };
}

/** What {@link readState} reads. */
interface StateRequest {
  userId: string;
  threadIds: readonly string[];
  recentMessages: number;
  /** The frame's byte budget (snapshot-budget.ts `frameBudget`). */
  maxFrameBytes: number;
}

/**
 * Reads the snapshot in one read transaction (docs/design.md#snapshot-before-stream) and shapes it
 * for the wire, keeping each thread's newest messages that fit the byte budget (docs/protocol.md
 * §5.1).
 */
export async function readState(
  store: Pick<Store, 'readSnapshot'>,
  epoch: () => Promise<string>,
  request: StateRequest,
  memoryStatus: MemoryStatus,
): Promise<StateView> {
  const limit = request.recentMessages;
  const [snapshot, epochId] = await Promise.all([
    store.readSnapshot(request.userId, [...request.threadIds], limit + 1),
    epoch(),
  ]);
  // Object.fromEntries: a thread id such as `toString` becomes an own key, never a prototype write.
  const read: Record<string, ReadThread> = Object.fromEntries(
    Object.entries(snapshot.threads).map(([threadId, thread]) => [
      threadId,
      readThreadOf(objectOrEmpty(thread.personalization), thread.messages.map(messageView), limit),
    ]),
  );
  const state: StateView = {
    epoch: epochId,
    seq: snapshot.seq,
    preferences: objectOrEmpty(snapshot.preferences),
    threads: Object.fromEntries(
      Object.entries(read).map(([id, t]) => [
        id,
        { personalization: t.personalization, messages: [] },
      ]),
    ),
    memory: { status: memoryStatus },
  };
  const base = baseBytes(state, Object.keys(read).length) + SESSION_RESERVE_BYTES;
  state.threads = fitThreads(read, request.maxFrameBytes - base);
  return state;
}

/**
 * The events to replay after a snapshot, or undefined for `recovered:false`: a different epoch, a
 * `since` ahead of the snapshot, events that left the history, more than {@link MAX_REPLAY_EVENTS},
 * or an event that cannot be shown — never a partial replay.
 */
export async function readReplay(
  store: Pick<Store, 'eventsSince'>,
  userId: string,
  resume: ResumeRequest,
  state: Pick<StateView, 'epoch' | 'seq'>,
): Promise<PushFrame[] | undefined> {
  if (resume.epoch !== state.epoch || resume.since > state.seq) return undefined;
  const result = await store.eventsSince(userId, resume.since, MAX_REPLAY_EVENTS);
  if (result.kind !== 'ok') return undefined;
  const frames: PushFrame[] = [];
  for (const event of result.events) {
    const frame = toPushFrame(event.type, event.seq, event.payload);
    if (frame === undefined) return undefined;
    frames.push(frame);
  }
  return frames;
}

/** `?thread=` values (repeatable): valid ids only, deduplicated, at most {@link MAX_SNAPSHOT_THREADS}. */
export function threadIdsOf(values: readonly string[], isId: (value: string) => boolean): string[] {
  return [...new Set(values.filter(isId))].slice(0, MAX_SNAPSHOT_THREADS);
}

/** `?since=` and `?epoch=` as a resume request, or undefined when either is missing or malformed. */
export function resumeOf(since: string | null, epoch: string | null): ResumeRequest | undefined {
  if (since === null || epoch === null || epoch === '' || !/^\d{1,15}$/.test(since)) {
    return undefined;
  }
  return { since: Number(since), epoch };
}
