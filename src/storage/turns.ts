/**
 * @module Assistant turns in storage (docs/decisions.md "Assistant turns, first slice"): a turn is
 * created in the transaction that commits its user message (so a message is never acknowledged
 * without its turn, and never has two: a resend of the same id answers the same turn), and ended
 * in the transaction that commits its reply. The turn runner reads and updates turns through
 * {@link TurnStore}.
 */

/**
 * Every status a turn can have; `queued`, `streaming` and `deferred` (the backend answered 202 and
 * uploads the reply later) are open, the rest are final.
 */
export const TURN_STATUSES = [
  'queued',
  'streaming',
  'deferred',
  'complete',
  'cancelled',
  'failed',
  'expired',
  'empty',
] as const;

/** A turn's status. */
export type TurnStatus = (typeof TURN_STATUSES)[number];

/** True for a turn still to be answered (queued, streaming or deferred). */
export function isOpenTurn(turn: { status: TurnStatus } | null | undefined): boolean {
  return turn?.status === 'queued' || turn?.status === 'streaming' || turn?.status === 'deferred';
}

/** A turn as stored. */
export interface StoredTurn {
  turnId: string;
  userId: string;
  threadId: string;
  /** The user message it answers. */
  messageId: string;
  /** That message's seq: the order of a thread's turns. */
  messageSeq: number;
  status: TurnStatus;
  /** Attempts started so far (0 while first queued). */
  attempt: number;
  /** The current attempt's reply id (the assistant message's id), null before the first. */
  replyId: string | null;
  /** The reply text so far, as last persisted. */
  text: string;
  createdAtWallMs: number;
  updatedAtWallMs: number;
  nextAttemptAtWallMs: number | null;
  error: string | null;
}

/** What a message write does to turns (fields of NewMessage). */
export interface MessageTurnFields {
  /** Create a queued turn for this message in its transaction (a user message, assistant on). */
  createTurn?: boolean;
  /** This message is the reply of that turn: the turn ends in the same transaction. */
  completesTurn?: string;
  /** How that turn ends: `complete` (default), or `cancelled` for a reply stopped midway. */
  completesAs?: 'complete' | 'cancelled';
}

/** What an append answers about turns: the message's turn, new or (on a resend) the first one. */
export interface TurnLink {
  turnId?: string;
}

/** A change to a turn; absent fields stay. */
export interface TurnUpdate {
  status?: TurnStatus;
  attempt?: number;
  replyId?: string | null;
  text?: string;
  nextAttemptAtWallMs?: number | null;
  error?: string | null;
}

/** Turns, read and updated by the turn runner. */
export interface TurnStore {
  readTurn(turnId: string): Promise<StoredTurn | null>;
  /**
   * Open turns (queued, streaming, deferred), each thread's in order (by message seq), oldest
   * thread first; with `threadId`, that thread's only.
   */
  openTurns(limit: number, threadId?: string): Promise<StoredTurn[]>;
  /** Applies `update` (and updated_at = now); false when there is no such turn. */
  updateTurn(turnId: string, update: TurnUpdate): Promise<boolean>;
  /**
   * Takes or renews `holder`'s lease on the thread's turns until `untilWallMs` (cluster mode: one
   * instance runs a thread's turns at a time, docs/decisions.md "Assistant turns across
   * instances"); true when granted: the lease was free, lapsed or already `holder`'s. A single
   * process (SQLite) always grants it.
   */
  leaseTurns(threadId: string, holder: string, untilWallMs: number): Promise<boolean>;
  /** Gives `holder`'s lease on the thread's turns back (another holder's is left alone). */
  releaseTurns(threadId: string, holder: string): Promise<void>;
}

/** The columns of a turn row as a {@link StoredTurn} (both engines alias the same way). */
export const TURN_COLUMN_LIST: ReadonlyArray<[column: string, field: keyof StoredTurn]> = [
  ['turn_id', 'turnId'],
  ['user_id', 'userId'],
  ['thread_id', 'threadId'],
  ['message_id', 'messageId'],
  ['message_seq', 'messageSeq'],
  ['status', 'status'],
  ['attempt', 'attempt'],
  ['reply_id', 'replyId'],
  ['text', 'text'],
  ['created_at', 'createdAtWallMs'],
  ['updated_at', 'updatedAtWallMs'],
  ['next_attempt_at', 'nextAttemptAtWallMs'],
  ['error', 'error'],
];

/** The columns an update may set, by field. */
const TURN_UPDATE_COLUMNS: Record<keyof TurnUpdate, string> = {
  status: 'status',
  attempt: 'attempt',
  replyId: 'reply_id',
  text: 'text',
  nextAttemptAtWallMs: 'next_attempt_at',
  error: 'error',
};

/** The (column, value) pairs of an update, in a fixed order. */
export function turnUpdatePairs(update: TurnUpdate): Array<[string, unknown]> {
  return (Object.keys(TURN_UPDATE_COLUMNS) as Array<keyof TurnUpdate>)
    .filter((field) => update[field] !== undefined)
    .map((field) => [TURN_UPDATE_COLUMNS[field], update[field]]);
}
