/**
 * @module LISTEN/NOTIFY for cluster fan-out (docs/design.md#operations). A trigger on `history`
 * (migrations-pg, `lifeline_history_notify`) calls `pg_notify` inside the transaction that writes
 * the event, so a notification exists only for a committed event, and PostgreSQL delivers them in
 * commit order. The payload is a reference — user id, seq and the writer's `application_name` —
 * never content, far below the 8,000-byte limit; listeners read the rows themselves. A second
 * trigger, on `breaker_state`, announces each new version of the shared circuit the same way.
 */
import type { SQL } from 'bun';

/** The channel the history trigger notifies. */
const HISTORY_CHANNEL = 'lifeline_history';

/** One committed history event, as announced. */
interface HistoryNotice {
  userId: string;
  seq: number;
  /** The writer's `application_name` (`lifeline/<instance id>`). */
  origin: string;
}

/** Parses a notification payload; undefined when it is not one of ours. */
function parseHistoryNotice(payload: string): HistoryNotice | undefined {
  try {
    const value = JSON.parse(payload) as { u?: unknown; s?: unknown; o?: unknown };
    if (typeof value.u !== 'string' || typeof value.s !== 'number') return undefined;
    return { userId: value.u, seq: value.s, origin: typeof value.o === 'string' ? value.o : '' };
  } catch {
    return undefined;
  }
}

/** Callbacks of {@link listenForHistory}. */
interface HistoryListener {
  onNotice(notice: HistoryNotice): void;
  /**
   * The LISTEN is in place again after its connection dropped (Bun reconnects with backoff and
   * re-subscribes): notifications sent meanwhile are lost, so catch up from the history.
   */
  onResubscribed(): void;
  /** A payload that did not parse (logged by the caller). */
  onMalformed?(payload: string): void;
}

/** A running LISTEN. */
export interface HistorySubscription {
  /** Times the LISTEN was re-established after a drop. */
  readonly resubscribes: number;
  close(): Promise<void>;
}

/**
 * LISTENs on {@link HISTORY_CHANNEL} on `sql`'s dedicated listen connection.
 * @throws the connection error when the first LISTEN cannot be established.
 */
export function listenForHistory(
  sql: SQL,
  listener: HistoryListener,
): Promise<HistorySubscription> {
  return listenOn(sql, HISTORY_CHANNEL, parseHistoryNotice, listener);
}

/** The channel the breaker_state trigger notifies (migrations-pg/0005_breaker_notify.sql). */
export const BREAKER_CHANNEL = 'lifeline_breaker';

/** A new version of a shared breaker row, as announced. */
export interface BreakerNotice {
  backend: string;
  version: number;
  /** The writer's `application_name` (`lifeline/<instance id>`). */
  origin: string;
}

/** Parses a breaker notification payload; undefined when it is not one of ours. */
function parseBreakerNotice(payload: string): BreakerNotice | undefined {
  try {
    const value = JSON.parse(payload) as { b?: unknown; v?: unknown; o?: unknown };
    if (typeof value.b !== 'string' || typeof value.v !== 'number') return undefined;
    return {
      backend: value.b,
      version: value.v,
      origin: typeof value.o === 'string' ? value.o : '',
    };
  } catch {
    return undefined;
  }
}

/** Callbacks of {@link listenForBreaker}: as {@link HistoryListener}, for breaker notices. */
interface BreakerListener {
  onNotice(notice: BreakerNotice): void;
  /** The LISTEN is back after a drop: versions written meanwhile were not announced. */
  onResubscribed(): void;
  onMalformed?(payload: string): void;
}

/**
 * LISTENs on {@link BREAKER_CHANNEL} on `sql`'s dedicated listen connection.
 * @throws the connection error when the first LISTEN cannot be established.
 */
export function listenForBreaker(
  sql: SQL,
  listener: BreakerListener,
): Promise<HistorySubscription> {
  return listenOn(sql, BREAKER_CHANNEL, parseBreakerNotice, listener);
}

/**
 * The channel live assistant replies ride between instances (assistant/cluster-turns.ts). Unlike
 * history notices these carry content (a `reply.delta`'s text, split to fit) and are sent with
 * `pg_notify` outside any data transaction: they are live only, like the frames they carry.
 */
const REPLY_CHANNEL = 'lifeline_reply';

/** The most bytes PostgreSQL takes in one notification payload (the limit is below 8000). */
export const MAX_NOTIFY_PAYLOAD_BYTES = 7999;

/** Callbacks of {@link listenForReplies}: raw payloads (the caller parses its own format). */
interface ReplyListener {
  onNotice(payload: string): void;
  /** The LISTEN is back after a drop: notices sent meanwhile were lost. */
  onResubscribed(): void;
}

/**
 * LISTENs on {@link REPLY_CHANNEL} on `sql`'s dedicated listen connection.
 * @throws the connection error when the first LISTEN cannot be established.
 */
export function listenForReplies(sql: SQL, listener: ReplyListener): Promise<HistorySubscription> {
  return listenOn(sql, REPLY_CHANNEL, (payload) => payload, listener);
}

/** Sends one payload (at most {@link MAX_NOTIFY_PAYLOAD_BYTES}) on {@link REPLY_CHANNEL}. */
export async function notifyReply(sql: SQL, payload: string): Promise<void> {
  await sql`SELECT pg_notify(${REPLY_CHANNEL}, ${payload})`;
}

async function listenOn<N>(
  sql: SQL,
  channel: string,
  parse: (payload: string) => N | undefined,
  listener: { onNotice(notice: N): void; onResubscribed(): void; onMalformed?(p: string): void },
): Promise<HistorySubscription> {
  let subscribed = 0;
  const state = { resubscribes: 0 };
  const subscription = await sql.listen(
    channel,
    (payload) => {
      const notice = parse(payload);
      if (notice === undefined) listener.onMalformed?.(payload);
      else listener.onNotice(notice);
    },
    () => {
      subscribed += 1;
      if (subscribed > 1) {
        state.resubscribes += 1;
        listener.onResubscribed();
      }
    },
  );
  return {
    get resubscribes() {
      return state.resubscribes;
    },
    close: () => subscription.unlisten(),
  };
}
