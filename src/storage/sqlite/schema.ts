/**
 * @module The drizzle table definitions: the only schema source for drizzle-kit (`gen:migrations`).
 * The FTS5 index over message content and the epoch row live in a custom migration, because
 * drizzle-kit does not model virtual tables or triggers. Wall-clock times are integer milliseconds.
 */
import {
  index,
  integer,
  primaryKey,
  sqliteTable,
  text,
  uniqueIndex,
} from 'drizzle-orm/sqlite-core';
import { TURN_STATUSES } from '../turns.ts';

/**
 * Key/value facts about this database file; `epoch` is made at first migration
 * (docs/design.md#epochs).
 */
export const meta = sqliteTable('meta', {
  key: text('key').primaryKey(),
  value: text('value').notNull(),
});

/** Runtime config overrides (docs/design.md#configuration): the top layer, tunable keys only. */
export const runtimeOverrides = sqliteTable('runtime_overrides', {
  key: text('key').primaryKey(),
  valueJson: text('value_json').notNull(),
  actor: text('actor').notNull(),
  updatedAt: integer('updated_at').notNull(),
});

/** Every set/unset of a runtime override: who changed what, from which value to which. */
export const runtimeConfigAudit = sqliteTable(
  'runtime_config_audit',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    key: text('key').notNull(),
    oldJson: text('old_json'),
    newJson: text('new_json'),
    actor: text('actor').notNull(),
    at: integer('at').notNull(),
  },
  (t) => [index('runtime_config_audit_at').on(t.at)],
);

/** The persisted circuit-breaker snapshot, one row per memory backend (docs/design.md#memory). */
export const breakerState = sqliteTable('breaker_state', {
  backend: text('backend').primaryKey(),
  state: text('state').notNull(),
  consecutiveFailures: integer('consecutive_failures').notNull(),
  openedAt: integer('opened_at'),
  nextProbeAt: integer('next_probe_at'),
  reopenCount: integer('reopen_count').notNull(),
  lastError: text('last_error'),
  /** Why the circuit is (or last was) open, e.g. `failures`, `misconfigured`. */
  reason: text('reason'),
  updatedAt: integer('updated_at').notNull(),
});

/**
 * Thread ownership: the primary key makes "first writer owns it" race-free
 * (docs/design.md#websocket).
 */
export const threads = sqliteTable(
  'threads',
  {
    id: text('id').primaryKey(),
    userId: text('user_id').notNull(),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [index('threads_user').on(t.userId)],
);

/** Per-user preferences, a JSON object set by the client or the API. */
export const userPreferences = sqliteTable('user_preferences', {
  userId: text('user_id').primaryKey(),
  json: text('json').notNull(),
  updatedAt: integer('updated_at').notNull(),
});

/** Per-thread personalization state, a JSON object. */
export const threadPersonalization = sqliteTable('thread_personalization', {
  threadId: text('thread_id')
    .primaryKey()
    .references(() => threads.id, { onDelete: 'cascade' }),
  json: text('json').notNull(),
  updatedAt: integer('updated_at').notNull(),
});

/**
 * The message log, which doubles as the outbox. `n` is the rowid alias: commit order, stable across
 * VACUUM, and the FTS5 index's content rowid. `id` is the client's UUID and the dedupe key.
 */
export const messages = sqliteTable(
  'messages',
  {
    n: integer('n').primaryKey(),
    id: text('id').notNull(),
    threadId: text('thread_id')
      .notNull()
      .references(() => threads.id, { onDelete: 'cascade' }),
    userId: text('user_id').notNull(),
    role: text('role').notNull(),
    content: text('content').notNull(),
    metadata: text('metadata'),
    createdAt: integer('created_at').notNull(),
    seq: integer('seq').notNull(),
    state: text('state', { enum: ['pending', 'delivered', 'dead'] })
      .notNull()
      .default('pending'),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    deliveredAt: integer('delivered_at'),
  },
  (t) => [
    uniqueIndex('messages_id').on(t.id),
    index('messages_outbox').on(t.state, t.threadId, t.n),
    index('messages_thread').on(t.threadId, t.n),
  ],
);

/** The per-user event sequence counter; every pushed event takes the next value. */
export const userSeq = sqliteTable('user_seq', {
  userId: text('user_id').primaryKey(),
  lastSeq: integer('last_seq').notNull(),
});

/**
 * The per-user replay history for resume (docs/design.md#websocket, #epochs), trimmed by count and
 * age.
 */
export const history = sqliteTable(
  'history',
  {
    userId: text('user_id').notNull(),
    seq: integer('seq').notNull(),
    type: text('type').notNull(),
    payload: text('payload').notNull(),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.seq] }), index('history_created').on(t.createdAt)],
);

/**
 * Assistant turns (docs/decisions.md "Assistant turns, first slice"): one per user message
 * committed while an assistant is configured, written in the message's transaction. `message_seq`
 * (the user message's seq) orders a thread's turns; `text` is the reply so far, persisted as it
 * streams so a restart can retry the attempt.
 */
export const turns = sqliteTable(
  'turns',
  {
    turnId: text('turn_id').primaryKey(),
    userId: text('user_id').notNull(),
    threadId: text('thread_id')
      .notNull()
      .references(() => threads.id, { onDelete: 'cascade' }),
    messageId: text('message_id').notNull(),
    messageSeq: integer('message_seq').notNull(),
    status: text('status', { enum: TURN_STATUSES }).notNull(),
    attempt: integer('attempt').notNull().default(0),
    replyId: text('reply_id'),
    text: text('text').notNull().default(''),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
    nextAttemptAt: integer('next_attempt_at'),
    error: text('error'),
  },
  (t) => [
    uniqueIndex('turns_message').on(t.messageId),
    index('turns_open').on(t.status, t.threadId, t.messageSeq),
  ],
);
