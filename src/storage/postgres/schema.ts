/**
 * @module The PostgreSQL table definitions (cluster mode, docs/design.md#operations): the only
 * schema source for drizzle-kit (`gen:migrations:pg`). Same tables and meaning as the SQLite
 * schema.ts. Wall-clock times and counters are int8; JSON is kept as text, so it reads back exactly
 * as written. The epoch row lives in a custom migration. `search` is the local-memory full-text
 * index: a tsvector of the message's folded words, written with the row (see outbox.ts).
 */
import {
  bigint,
  bigserial,
  customType,
  index,
  integer,
  pgTable,
  primaryKey,
  text,
  uniqueIndex,
} from 'drizzle-orm/pg-core';
import { TURN_STATUSES } from '../turns.ts';

const tsvector = customType<{ data: string }>({
  dataType: () => 'tsvector',
});

/** Wall-clock milliseconds. */
const ms = (name: string) => bigint(name, { mode: 'number' });

/**
 * Key/value facts about this database; `epoch` is made at first migration (docs/design.md#epochs).
 */
export const meta = pgTable('meta', {
  key: text('key').primaryKey(),
  value: text('value').notNull(),
});

/** Runtime config overrides (docs/design.md#configuration): the top layer, tunable keys only. */
export const runtimeOverrides = pgTable('runtime_overrides', {
  key: text('key').primaryKey(),
  valueJson: text('value_json').notNull(),
  actor: text('actor').notNull(),
  updatedAt: ms('updated_at').notNull(),
});

/** Every set/unset of a runtime override: who changed what, from which value to which. */
export const runtimeConfigAudit = pgTable(
  'runtime_config_audit',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    key: text('key').notNull(),
    oldJson: text('old_json'),
    newJson: text('new_json'),
    actor: text('actor').notNull(),
    at: ms('at').notNull(),
  },
  (t) => [index('runtime_config_audit_at').on(t.at)],
);

/** The persisted circuit-breaker snapshot, one row per memory backend (docs/design.md#memory). */
export const breakerState = pgTable('breaker_state', {
  backend: text('backend').primaryKey(),
  state: text('state').notNull(),
  consecutiveFailures: integer('consecutive_failures').notNull(),
  openedAt: ms('opened_at'),
  nextProbeAt: ms('next_probe_at'),
  reopenCount: integer('reopen_count').notNull(),
  lastError: text('last_error'),
  reason: text('reason'),
  updatedAt: ms('updated_at').notNull(),
  /** Bumped by every write of the state: instances adopt a newer version (cluster mode). */
  version: bigint('version', { mode: 'number' }).notNull().default(0),
  /** The version the half-open probe tickets below were handed out in. */
  probeVersion: bigint('probe_version', { mode: 'number' }),
  /** Probe tickets handed out in `probe_version`, cluster-wide (≤ half_open_max_calls). */
  probes: integer('probes').notNull().default(0),
  /** Tickets lapse at this wall time (an instance died mid-probe). */
  probeUntil: ms('probe_until'),
});

/**
 * Thread ownership: the primary key makes "first writer owns it" race-free
 * (docs/design.md#websocket).
 */
export const threads = pgTable(
  'threads',
  {
    id: text('id').primaryKey(),
    userId: text('user_id').notNull(),
    createdAt: ms('created_at').notNull(),
    /** The instance delivering this thread's outbox now (cluster mode), or null. */
    leasedBy: text('leased_by'),
    /** Wall time the delivery lease lapses; another instance may take the thread over then. */
    leaseUntil: ms('lease_until'),
    /** The instance running this thread's assistant turns now (docs/decisions.md), or null. */
    turnsLeasedBy: text('turns_leased_by'),
    /** Wall time that turn lease lapses; another instance takes the thread's turns over then. */
    turnsLeaseUntil: ms('turns_lease_until'),
  },
  (t) => [index('threads_user').on(t.userId)],
);

/** Per-user preferences, a JSON object set by the client or the API. */
export const userPreferences = pgTable('user_preferences', {
  userId: text('user_id').primaryKey(),
  json: text('json').notNull(),
  updatedAt: ms('updated_at').notNull(),
});

/** Per-thread personalization state, a JSON object. */
export const threadPersonalization = pgTable('thread_personalization', {
  threadId: text('thread_id')
    .primaryKey()
    .references(() => threads.id, { onDelete: 'cascade' }),
  json: text('json').notNull(),
  updatedAt: ms('updated_at').notNull(),
});

/**
 * The message log, which doubles as the outbox. `n` orders messages; within a thread it is commit
 * order, because a thread has one owner and the owner's seq row lock is held from before `n` is
 * drawn until COMMIT. `id` is the client's UUID and the dedupe key.
 */
export const messages = pgTable(
  'messages',
  {
    n: bigserial('n', { mode: 'number' }).primaryKey(),
    id: text('id').notNull(),
    threadId: text('thread_id')
      .notNull()
      .references(() => threads.id, { onDelete: 'cascade' }),
    userId: text('user_id').notNull(),
    role: text('role').notNull(),
    content: text('content').notNull(),
    metadata: text('metadata'),
    createdAt: ms('created_at').notNull(),
    seq: bigint('seq', { mode: 'number' }).notNull(),
    state: text('state', { enum: ['pending', 'delivered', 'dead'] })
      .notNull()
      .default('pending'),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    deliveredAt: ms('delivered_at'),
    search: tsvector('search').notNull(),
  },
  (t) => [
    uniqueIndex('messages_id').on(t.id),
    index('messages_outbox').on(t.state, t.threadId, t.n),
    index('messages_thread').on(t.threadId, t.n),
    index('messages_search').using('gin', t.search),
  ],
);

/** The per-user event sequence counter; every pushed event takes the next value. */
export const userSeq = pgTable('user_seq', {
  userId: text('user_id').primaryKey(),
  lastSeq: bigint('last_seq', { mode: 'number' }).notNull(),
});

/**
 * The per-user replay history for resume (docs/design.md#websocket, #epochs), trimmed by count and
 * age.
 */
export const history = pgTable(
  'history',
  {
    userId: text('user_id').notNull(),
    seq: bigint('seq', { mode: 'number' }).notNull(),
    type: text('type').notNull(),
    payload: text('payload').notNull(),
    createdAt: ms('created_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.seq] }), index('history_created').on(t.createdAt)],
);

/**
 * Live cluster members (cluster mode): each instance refreshes its row every few seconds; a row
 * older than a few missed beats is a dead member (storage/postgres/members.ts).
 */
export const clusterMembers = pgTable('cluster_members', {
  instanceId: text('instance_id').primaryKey(),
  address: text('address').notNull(),
  startedAt: ms('started_at').notNull(),
  lastSeen: ms('last_seen').notNull(),
});

/** Assistant turns: the same table as the SQLite schema.ts `turns`. */
export const turns = pgTable(
  'turns',
  {
    turnId: text('turn_id').primaryKey(),
    userId: text('user_id').notNull(),
    threadId: text('thread_id')
      .notNull()
      .references(() => threads.id, { onDelete: 'cascade' }),
    messageId: text('message_id').notNull(),
    messageSeq: bigint('message_seq', { mode: 'number' }).notNull(),
    status: text('status', { enum: TURN_STATUSES }).notNull(),
    attempt: integer('attempt').notNull().default(0),
    replyId: text('reply_id'),
    text: text('text').notNull().default(''),
    createdAt: ms('created_at').notNull(),
    updatedAt: ms('updated_at').notNull(),
    nextAttemptAt: ms('next_attempt_at'),
    error: text('error'),
  },
  (t) => [
    uniqueIndex('turns_message').on(t.messageId),
    index('turns_open').on(t.status, t.threadId, t.messageSeq),
  ],
);
