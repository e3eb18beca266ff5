/**
 * @module The handler of each client frame type (docs/design.md#websocket). Each runs inside its
 * socket's serial queue, answers exactly one reply (or closes the socket, for `auth.refresh`), and
 * persists only what it acknowledges: every storage failure becomes `error unavailable` with
 * nothing acked.
 */
import { randomUUID } from 'node:crypto';
import { LifelineError } from '../lib/errors.ts';
import type { Logger } from '../lib/log.ts';
import type { Metrics } from '../metrics/registry.ts';
import type { Store } from '../storage/store.ts';
import type { AssistantPort } from './assistant-port.ts';
import type { Verifier } from './auth.ts';
import type { Hub } from './hub.ts';
import type { MemoryPort } from './memory-port.ts';
import { commitMessage } from './message-pipeline.ts';
import {
  type AuthRefreshFrame,
  CLOSE,
  type ClientFrame,
  type ErrorCode,
  errorFrame,
  type MemoryQueryFrame,
  type MessageFrame,
  type PersonalizationSetFrame,
  type PreferencesSetFrame,
  type PushFrame,
  type ReplyCancelFrame,
  type ServerFrame,
  type ThreadJoinFrame,
  type ThreadView,
} from './protocol.ts';
import { isoTime, memoryResultView, messageView, objectOrEmpty } from './push.ts';
import { SEARCH_LIMIT } from './search-limit.ts';
import type { Session } from './session.ts';
import { baseBytes, fitThreads, readThreadOf } from './snapshot-budget.ts';

/** What the handlers need; built once by the realtime factory. */
export interface HandlerOptions {
  store: Store;
  memory: MemoryPort;
  verifier: Verifier;
  hub: Hub;
  logger: Logger;
  metrics: Metrics;
  /** `rehydration.recent_messages`, read live. */
  recentMessages(): number;
  /** The byte budget of a snapshot or a `thread.state` page, read live (snapshot-budget.ts). */
  frameBudget(): number;
  /** Publishes a committed event to the user's sockets except the one with `origin`. */
  fanOut(userId: string, frame: PushFrame, origin?: string): Promise<void>;
  /** Closes a socket with a code and reason, and forgets it. */
  close(session: Session, code: number, reason: string): void;
  /** The assistant, when `assistant.backend` is not `none` (the pipeline creates turns then). */
  turns?: AssistantPort;
}

/** Sends one reply or notice and counts it. */
export function reply(ctx: HandlerOptions, session: Session, frame: ServerFrame): void {
  if (frame.type === 'error') ctx.metrics.rejected.inc({ reason: frame.code });
  if (ctx.hub.send(session.socket, frame)) ctx.metrics.messagesOut.inc({ type: frame.type });
}

function fail(
  ctx: HandlerOptions,
  session: Session,
  code: ErrorCode,
  message: string,
  id?: string,
) {
  reply(ctx, session, errorFrame(code, message, id));
}

/** Maps a thrown storage error to the client's code; anything unexpected is logged. */
function failFromError(ctx: HandlerOptions, session: Session, error: unknown, id?: string): void {
  if (error instanceof LifelineError && error.code === 'unavailable') {
    fail(ctx, session, 'unavailable', 'storage is unavailable; nothing was stored', id);
    return;
  }
  ctx.logger.error('frame handler failed', { error, connection_id: session.connectionId });
  fail(ctx, session, 'internal', 'internal error; nothing was stored', id);
}

/** Handles one valid frame. Never throws. */
export async function handleFrame(
  ctx: HandlerOptions,
  session: Session,
  frame: ClientFrame,
): Promise<void> {
  try {
    switch (frame.type) {
      case 'message':
        return await handleMessage(ctx, session, frame);
      case 'memory.query':
        return await handleMemoryQuery(ctx, session, frame);
      case 'preferences.set':
        return await handlePreferences(ctx, session, frame);
      case 'personalization.set':
        return await handlePersonalization(ctx, session, frame);
      case 'thread.join':
        return await handleJoin(ctx, session, frame);
      case 'auth.refresh':
        return await handleRefresh(ctx, session, frame);
      case 'reply.cancel':
        return await handleCancel(ctx, session, frame);
      case 'ping':
        return reply(
          ctx,
          session,
          frame.id === undefined ? { type: 'pong' } : { type: 'pong', id: frame.id },
        );
    }
  } catch (error) {
    failFromError(ctx, session, error, frame.id);
  }
}

async function handleMessage(ctx: HandlerOptions, session: Session, frame: MessageFrame) {
  const result = await commitMessage(
    ctx,
    {
      userId: session.userId,
      threadId: frame.thread_id,
      id: frame.id,
      role: frame.role,
      content: frame.content,
      ...(frame.metadata === undefined ? {} : { metadata: frame.metadata }),
    },
    {
      origin: session.connectionId,
      onCommitted: (seq, turnId) =>
        reply(ctx, session, {
          type: 'ack',
          id: frame.id,
          seq,
          ...(turnId === undefined ? {} : { turn_id: turnId }),
        }),
    },
  );
  switch (result.kind) {
    case 'ok':
      return;
    case 'rejected':
      return fail(ctx, session, result.code, result.message, frame.id);
    case 'forbidden_thread':
      return fail(ctx, session, 'forbidden_thread', 'the thread belongs to another user', frame.id);
    case 'conflict':
      return fail(ctx, session, 'bad_request', 'this message id is already used', frame.id);
  }
}

/** True when the user may read the thread; answers `forbidden_thread` otherwise. */
async function mayRead(ctx: HandlerOptions, session: Session, threadId: string, id?: string) {
  const owner = await ctx.store.threadOwner(threadId);
  if (owner !== null && owner !== session.userId) {
    fail(ctx, session, 'forbidden_thread', 'the thread belongs to another user', id);
    return { allowed: false, owned: false };
  }
  return { allowed: true, owned: owner !== null };
}

/**
 * Checks ownership in the queue, then lets the search answer on its own time so the frames behind
 * it are not held up (docs/faults.md#m2); at most one search per socket is in flight — a second
 * `memory.query` waits in the queue for the first (decision).
 */
async function handleMemoryQuery(ctx: HandlerOptions, session: Session, frame: MemoryQueryFrame) {
  const access = await mayRead(ctx, session, frame.thread_id, frame.id);
  if (!access.allowed) return;
  const answer = (results: ReturnType<typeof memoryResultView>[], degraded: boolean) =>
    reply(ctx, session, {
      type: 'memory.result',
      ...(frame.id === undefined ? {} : { id: frame.id }),
      thread_id: frame.thread_id,
      results,
      degraded,
    });
  // A thread nobody owns has nothing of this user's in memory; never ask the service (Z2).
  if (!access.owned) return answer([], false);
  if (session.queryInFlight !== undefined) await session.queryInFlight;
  const limit = frame.limit ?? SEARCH_LIMIT.default;
  const search = ctx.memory
    .search({ userId: session.userId, threadId: frame.thread_id, query: frame.query, limit })
    .then(
      (found) => answer(found.results.slice(0, limit).map(memoryResultView), found.degraded),
      (error: unknown) => {
        ctx.logger.warn('memory search failed; answering degraded', { error });
        answer([], true);
      },
    )
    .finally(() => {
      if (session.queryInFlight === search) session.queryInFlight = undefined;
    });
  session.queryInFlight = search;
}

async function handlePreferences(
  ctx: HandlerOptions,
  session: Session,
  frame: PreferencesSetFrame,
) {
  const seq = await ctx.store.setPreferences(session.userId, frame.preferences);
  reply(ctx, session, ackOf(frame.id, seq));
  await ctx.fanOut(
    session.userId,
    { type: 'preferences', seq, preferences: frame.preferences },
    session.connectionId,
  );
}

async function handlePersonalization(
  ctx: HandlerOptions,
  session: Session,
  frame: PersonalizationSetFrame,
) {
  const result = await ctx.store.setPersonalization(session.userId, frame.thread_id, frame.state);
  if (result.kind === 'forbidden_thread') {
    return fail(ctx, session, 'forbidden_thread', 'the thread belongs to another user', frame.id);
  }
  reply(ctx, session, ackOf(frame.id, result.seq));
  const push: PushFrame = {
    type: 'personalization',
    seq: result.seq,
    thread_id: frame.thread_id,
    state: frame.state,
  };
  await ctx.fanOut(session.userId, push, session.connectionId);
}

/**
 * Answers `thread.state`: the thread's newest messages, or with `before` the page below that seq
 * (at least one message per page, so paging always moves on), within the frame budget.
 */
async function handleJoin(ctx: HandlerOptions, session: Session, frame: ThreadJoinFrame) {
  const access = await mayRead(ctx, session, frame.thread_id, frame.id);
  if (!access.allowed) return;
  const head = {
    type: 'thread.state' as const,
    ...(frame.id === undefined ? {} : { id: frame.id }),
    thread_id: frame.thread_id,
  };
  if (!access.owned) return reply(ctx, session, { ...head, personalization: {}, messages: [] });
  const limit =
    frame.before === undefined ? ctx.recentMessages() : Math.max(1, ctx.recentMessages());
  const snapshot = await ctx.store.readSnapshot(
    session.userId,
    [frame.thread_id],
    limit + 1,
    frame.before === undefined ? {} : { beforeSeq: frame.before },
  );
  const thread = snapshot.threads[frame.thread_id];
  const read = readThreadOf(
    objectOrEmpty(thread?.personalization),
    (thread?.messages ?? []).map(messageView),
    limit,
  );
  const base = baseBytes({ ...head, personalization: read.personalization, messages: [] }, 1);
  const view = fitThreads({ [frame.thread_id]: read }, ctx.frameBudget() - base, true);
  reply(ctx, session, { ...head, ...(view[frame.thread_id] as ThreadView) });
}

/** Swaps the token; another user's valid token → 4003, a bad one → 4001 (docs/faults.md#a15). */
async function handleRefresh(ctx: HandlerOptions, session: Session, frame: AuthRefreshFrame) {
  const result = await ctx.verifier.verify(frame.token);
  if (!result.ok) return ctx.close(session, CLOSE.refreshToken, result.reason);
  if (result.userId !== session.userId) {
    return ctx.close(session, CLOSE.forbidden, 'identity_changed');
  }
  session.tokenExpMs = result.expMs;
  session.expiryNoticeSent = false;
  reply(ctx, session, {
    type: 'auth.ok',
    ...(frame.id === undefined ? {} : { id: frame.id }),
    token_expires_at: isoTime(result.expMs),
  });
}

function ackOf(id: string | undefined, seq: number): ServerFrame {
  return id === undefined ? { type: 'ack', seq } : { type: 'ack', id, seq };
}

/** A fresh connection id. */
export function newConnectionId(): string {
  return randomUUID();
}

async function handleCancel(ctx: HandlerOptions, session: Session, frame: ReplyCancelFrame) {
  if (ctx.turns === undefined) {
    return fail(
      ctx,
      session,
      'bad_request',
      'no assistant is configured (assistant.backend = "none")',
      frame.id,
    );
  }
  const outcome = await ctx.turns.cancel(session.userId, frame.turn_id);
  if (outcome === 'forbidden') {
    return fail(ctx, session, 'forbidden_thread', 'that turn belongs to another user', frame.id);
  }
  if (outcome === 'unknown') {
    return fail(ctx, session, 'bad_request', `turn_id: no turn ${frame.turn_id}`, frame.id);
  }
  reply(ctx, session, {
    type: 'ack',
    ...(frame.id === undefined ? {} : { id: frame.id }),
    turn_id: frame.turn_id,
  });
}
