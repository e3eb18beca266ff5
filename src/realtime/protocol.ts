/**
 * @module The WebSocket wire protocol `lifeline.v1` (docs/design.md#websocket, #edge-cases):
 * TypeBox models of every frame in and out, their static types, and the error and close codes. This
 * file is the one source of truth; the client SDK imports these types, and docs/protocol.md
 * describes the same shapes.
 */
import { type Static, type TSchema, Type } from '@sinclair/typebox';
import { ID_PATTERN, UUID_PATTERN } from '../lib/ids.ts';
import { MEMORY_STATUSES, type MemoryStatus } from '../memory/status.ts';
import { MESSAGE_ROLES, type MessageRole } from '../storage/store.ts';
import * as reply from './reply-protocol.ts';
import { SEARCH_LIMIT_SCHEMA } from './search-limit.ts';

/** The only subprotocol the server answers with (docs/design.md#token-rules). */
export const SUBPROTOCOL = 'lifeline.v1';

/** Prefix of the subprotocol entry carrying a browser's token (docs/design.md#tokens). */
export const BEARER_PROTOCOL_PREFIX = 'bearer.';

/** Error codes of `error` frames (docs/design.md#websocket, plus `unavailable` from §8.8). */
export const ERROR_CODES = [
  'bad_request',
  'unknown_type',
  'empty_message',
  'too_large',
  'rate_limited',
  'forbidden_thread',
  'internal',
  'unavailable',
] as const;
/** One of {@link ERROR_CODES}. */
export type ErrorCode = (typeof ERROR_CODES)[number];

// The close codes live in close-codes.ts (re-exported here).
export { CLOSE, type CloseCode } from './close-codes.ts';

/** Close reasons sent with 4001 (docs/design.md#websocket). */
export type TokenFailure = 'token_invalid' | 'token_expired';

/** Message roles are the store's (src/storage/store.ts). */
export { MESSAGE_ROLES, type MessageRole };

/**
 * Ids that match the id pattern but name `Object.prototype` machinery. They are refused as user and
 * thread ids so no code path can ever turn one into a prototype write (docs/faults.md#w7, #a13).
 */
const RESERVED_IDS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** True when `value` is a usable, unreserved user or thread id (docs/design.md#ids-and-limits). */
export function isAcceptableId(value: unknown): value is string {
  return typeof value === 'string' && ID_PATTERN.test(value) && !RESERVED_IDS.has(value);
}

/** Memory statuses are the memory layer's (src/memory/status.ts), carried by `rehydrate` and `memory`. */
export { MEMORY_STATUSES, type MemoryStatus };

// ---------------------------------------------------------------------------------------------
// Building blocks. `errorMessage` is read by validate-frame.ts to word a failure for the client.

const ThreadId = Type.String({
  pattern: ID_PATTERN.source,
  errorMessage: 'expected a thread id matching [A-Za-z0-9._-]{1,128}',
});
const RequestId = Type.String({
  pattern: ID_PATTERN.source,
  errorMessage: 'expected a string matching [A-Za-z0-9._-]{1,128}',
});
const MessageId = Type.String({ pattern: UUID_PATTERN.source, errorMessage: 'expected a UUID' });
const Role = Type.Union(
  MESSAGE_ROLES.map((role) => Type.Literal(role)),
  { errorMessage: `expected one of ${MESSAGE_ROLES.join(', ')}` },
);
const JsonObject = Type.Record(Type.String(), Type.Unknown(), {
  errorMessage: 'expected an object',
});
const Seq = Type.Integer({ minimum: 0 });
const IsoTime = Type.String({ description: 'RFC 3339 UTC time, e.g. 2026-11-24T12:00:00.000Z' });

function clientFrame<T extends string, P extends Record<string, TSchema>>(type: T, props: P) {
  return Type.Object({ type: Type.Literal(type), id: Type.Optional(RequestId), ...props });
}

// ---------------------------------------------------------------------------------------------
// Client → server

/** `message`: commit a chat message; `id`, its UUID, is required (docs/design.md#duplicate-ids). */
export const MessageFrame = Type.Object({
  type: Type.Literal('message'),
  id: MessageId,
  thread_id: ThreadId,
  role: Role,
  content: Type.String(),
  metadata: Type.Optional(JsonObject),
});
/** `memory.query`: search the thread's long-term memory through the breaker. */
export const MemoryQueryFrame = clientFrame('memory.query', {
  thread_id: ThreadId,
  query: Type.String(),
  limit: Type.Optional(Type.Integer(SEARCH_LIMIT_SCHEMA)),
});
/** `preferences.set`: replace the user's preferences object. */
export const PreferencesSetFrame = clientFrame('preferences.set', { preferences: JsonObject });
/** `personalization.set`: replace one thread's personalization state. */
export const PersonalizationSetFrame = clientFrame('personalization.set', {
  thread_id: ThreadId,
  state: JsonObject,
});
/** `thread.join`: the thread now on screen, or with `before` a page of its older messages. */
export const ThreadJoinFrame = clientFrame('thread.join', {
  thread_id: ThreadId,
  before: Type.Optional(
    Type.Integer({
      minimum: 1,
      maximum: Number.MAX_SAFE_INTEGER,
      errorMessage: 'expected a seq ≥ 1 (a `before` from the server)',
    }),
  ),
});
/** `auth.refresh`: swap the socket's token without reconnecting. */
export const AuthRefreshFrame = clientFrame('auth.refresh', { token: Type.String() });
/** `ping`: answered with `pong`. */
const PingFrame = clientFrame('ping', {});
/** `reply.cancel`: stop a reply of the user's (docs/protocol.md "Assistant replies"). */
export const ReplyCancelFrame = clientFrame('reply.cancel', {
  turn_id: Type.String({ pattern: UUID_PATTERN.source, errorMessage: 'expected a turn UUID' }),
});

/** Every client frame model, by `type`. */
export const CLIENT_FRAMES = {
  message: MessageFrame,
  'memory.query': MemoryQueryFrame,
  'preferences.set': PreferencesSetFrame,
  'personalization.set': PersonalizationSetFrame,
  'thread.join': ThreadJoinFrame,
  'auth.refresh': AuthRefreshFrame,
  ping: PingFrame,
  'reply.cancel': ReplyCancelFrame,
} as const;

export type MessageFrame = Static<typeof MessageFrame>;
export type MemoryQueryFrame = Static<typeof MemoryQueryFrame>;
export type PreferencesSetFrame = Static<typeof PreferencesSetFrame>;
export type PersonalizationSetFrame = Static<typeof PersonalizationSetFrame>;
export type ThreadJoinFrame = Static<typeof ThreadJoinFrame>;
export type AuthRefreshFrame = Static<typeof AuthRefreshFrame>;
type PingFrame = Static<typeof PingFrame>;
export type ReplyCancelFrame = Static<typeof ReplyCancelFrame>;
/** Any valid client frame, discriminated by `type`. */
export type ClientFrame =
  | MessageFrame
  | MemoryQueryFrame
  | PreferencesSetFrame
  | PersonalizationSetFrame
  | ThreadJoinFrame
  | AuthRefreshFrame
  | PingFrame
  | ReplyCancelFrame;

// ---------------------------------------------------------------------------------------------
// Server → client: shared shapes

/** A message as the server shows it (rehydrate, thread.state, message push). */
export const MessageView = Type.Object({
  id: Type.String(),
  thread_id: Type.String(),
  role: Type.String(),
  content: Type.String(),
  metadata: Type.Optional(JsonObject),
  created_at: IsoTime,
  seq: Seq,
});
export type MessageView = Static<typeof MessageView>;

/** One long-term-memory search hit. */
export const MemoryResultView = Type.Object({
  content: Type.String(),
  role: Type.Optional(Type.String()),
  score: Type.Optional(Type.Number()),
  message_id: Type.Optional(Type.String()),
  created_at: Type.Optional(IsoTime),
  metadata: Type.Optional(JsonObject),
});
export type MemoryResultView = Static<typeof MemoryResultView>;

/** Paging: the byte budget cut some messages (`truncated`); older ones are below `before`. */
const PageFields = { truncated: Type.Optional(Type.Literal(true)), before: Type.Optional(Seq) };

/** A thread's part of a snapshot. */
export const ThreadView = Type.Object({
  personalization: JsonObject,
  messages: Type.Array(MessageView),
  replies: Type.Optional(Type.Array(reply.ReplyView)),
  ...PageFields,
});
export type ThreadView = Static<typeof ThreadView>;

const MemoryStatusSchema = Type.Union(MEMORY_STATUSES.map((status) => Type.Literal(status)));

/** `rehydrate`: always the first frame after open (docs/design.md#rehydrate, #epochs). */
export const RehydrateFrame = Type.Object({
  type: Type.Literal('rehydrate'),
  epoch: Type.String(),
  seq: Seq,
  recovered: Type.Boolean(),
  session: Type.Object({
    user_id: Type.String(),
    connection_id: Type.String(),
    token_expires_at: IsoTime,
  }),
  preferences: JsonObject,
  threads: Type.Record(Type.String(), ThreadView),
  memory: Type.Object({ status: MemoryStatusSchema }),
  assistant: Type.Optional(reply.AssistantView),
});
export type RehydrateFrame = Static<typeof RehydrateFrame>;

// ---------------------------------------------------------------------------------------------
// Server → client: replies (echo the request's `id` when it had one; never carry `seq` of their own
// except `ack`, whose `seq` is the event the write produced)

/** `ack`: the write is durably committed; `seq` is the event it produced. */
const AckFrame = Type.Object({
  type: Type.Literal('ack'),
  id: Type.Optional(Type.String()),
  /** The write's seq; absent in the ack of a `reply.cancel` (its `reply.end` carries one). */
  seq: Type.Optional(Seq),
  turn_id: Type.Optional(Type.String()),
});
/** `error`: the frame was refused; nothing was persisted. */
export const ErrorFrame = Type.Object({
  type: Type.Literal('error'),
  code: Type.Union(ERROR_CODES.map((code) => Type.Literal(code))),
  message: Type.String(),
  id: Type.Optional(Type.String()),
});
/** `memory.result`: search hits; `degraded: true` with `[]` while the memory service is out. */
export const MemoryResultFrame = Type.Object({
  type: Type.Literal('memory.result'),
  id: Type.Optional(Type.String()),
  thread_id: Type.String(),
  results: Type.Array(MemoryResultView),
  degraded: Type.Boolean(),
});
/** `thread.state`: the answer to `thread.join`. */
export const ThreadStateFrame = Type.Object({
  type: Type.Literal('thread.state'),
  id: Type.Optional(Type.String()),
  thread_id: Type.String(),
  personalization: JsonObject,
  messages: Type.Array(MessageView),
  ...PageFields,
});
/** `auth.ok`: the refreshed token is in force. */
export const AuthOkFrame = Type.Object({
  type: Type.Literal('auth.ok'),
  id: Type.Optional(Type.String()),
  token_expires_at: IsoTime,
});
/** `pong`: the answer to `ping`. */
const PongFrame = Type.Object({
  type: Type.Literal('pong'),
  id: Type.Optional(Type.String()),
});

// ---------------------------------------------------------------------------------------------
// Server → client: pushed events. Each carries the user's `seq` and is kept in the history.

/** `preferences`: the user's preferences changed. */
const PreferencesPush = Type.Object({
  type: Type.Literal('preferences'),
  seq: Seq,
  preferences: JsonObject,
});
/** `personalization`: a thread's personalization changed. */
const PersonalizationPush = Type.Object({
  type: Type.Literal('personalization'),
  seq: Seq,
  thread_id: Type.String(),
  state: JsonObject,
});
/** `message`: a message committed by another socket of the user or by the backend. */
const MessagePush = Type.Object({
  type: Type.Literal('message'),
  seq: Seq,
  message: MessageView,
});
/** `memory`: the memory service status changed (one per breaker transition). */
const MemoryPush = Type.Object({
  type: Type.Literal('memory'),
  seq: Seq,
  status: MemoryStatusSchema,
});
/** `event`: an application event from the publish API. */
export const EventPush = Type.Object({
  type: Type.Literal('event'),
  seq: Seq,
  event: Type.String(),
  data: Type.Unknown(),
});

// ---------------------------------------------------------------------------------------------
// Server → client: per-connection notices. No `seq`, not in the history (decision).

/** `auth.expiring`: the token expires in `in_s` seconds; send `auth.refresh`. */
const AuthExpiringFrame = Type.Object({
  type: Type.Literal('auth.expiring'),
  in_s: Type.Integer({ minimum: 0 }),
});
/** `reconnect`: the server is about to close with 1012; reconnect after `after_ms`. */
const ReconnectFrame = Type.Object({
  type: Type.Literal('reconnect'),
  after_ms: Type.Integer({ minimum: 0 }),
});

export type ErrorFrame = Static<typeof ErrorFrame>;
export type MemoryResultFrame = Static<typeof MemoryResultFrame>;
export type ThreadStateFrame = Static<typeof ThreadStateFrame>;
export type AuthOkFrame = Static<typeof AuthOkFrame>;
type PreferencesPush = Static<typeof PreferencesPush>;
type PersonalizationPush = Static<typeof PersonalizationPush>;
type MessagePush = Static<typeof MessagePush>;
type MemoryPush = Static<typeof MemoryPush>;
export type EventPush = Static<typeof EventPush>;

/** Every server frame model, by `type` (`message` is the push; the client's is {@link MessageFrame}). */
export const SERVER_FRAMES = {
  rehydrate: RehydrateFrame,
  ack: AckFrame,
  error: ErrorFrame,
  'memory.result': MemoryResultFrame,
  'thread.state': ThreadStateFrame,
  'auth.ok': AuthOkFrame,
  pong: PongFrame,
  preferences: PreferencesPush,
  personalization: PersonalizationPush,
  message: MessagePush,
  memory: MemoryPush,
  'auth.expiring': AuthExpiringFrame,
  event: EventPush,
  reconnect: ReconnectFrame,
  ...reply.REPLY_FRAMES,
} as const;

/** A pushed event: carries `seq`, is kept in the history and replayed on resume. */
export type PushFrame =
  | PreferencesPush
  | PersonalizationPush
  | MessagePush
  | MemoryPush
  | EventPush
  | reply.ReplyPush;
/** Any frame the server sends, discriminated by `type`: one model per entry of {@link SERVER_FRAMES}. */
export type ServerFrame = Static<(typeof SERVER_FRAMES)[keyof typeof SERVER_FRAMES]>;

/** True for frames that carry the user's event `seq` (pushes; not the rehydrate itself). */
export function isPushFrame(frame: ServerFrame): frame is PushFrame {
  return PUSH_TYPES.has(frame.type);
}
const PUSH_TYPES: ReadonlySet<string> = new Set([
  ...['preferences', 'personalization', 'message', 'memory', 'event'],
  ...reply.REPLY_PUSH_TYPES,
]);

/** Builds an `error` frame, echoing `id` only when there is one. */
export function errorFrame(code: ErrorCode, message: string, id?: string): ErrorFrame {
  return id === undefined ? { type: 'error', code, message } : { type: 'error', code, message, id };
}
