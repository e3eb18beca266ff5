/**
 * @module The wire models of assistant replies (docs/protocol.md "Assistant replies"), TypeBox
 * like the rest of protocol.ts, which includes them in its frame unions. Self-contained (it imports
 * nothing from protocol.ts), so the two modules never form an import cycle.
 *
 * `reply.start` and `reply.end` are history events: they carry `seq` and are replayed on resume.
 * `reply.delta` is not: a client that missed deltas gets the text so far in `rehydrate` instead.
 */
import { type Static, Type } from '@sinclair/typebox';

const Seq = Type.Integer({ minimum: 0 });

/** What `rehydrate.assistant.status` can say. */
export const ASSISTANT_STATUSES = ['ok', 'unavailable', 'none'] as const;
export type AssistantStatus = (typeof ASSISTANT_STATUSES)[number];

/** How a reply ended. */
export const REPLY_END_STATUSES = ['complete', 'cancelled', 'failed', 'expired', 'empty'] as const;
export type ReplyEndStatus = (typeof REPLY_END_STATUSES)[number];

/** The pushed (history) reply frame types. */
export const REPLY_PUSH_TYPES = ['reply.start', 'reply.end', 'assistant'] as const;

const ReplyIds = {
  turn_id: Type.String(),
  thread_id: Type.String(),
  reply_id: Type.String(),
};

/** The committed assistant message of a reply: the `message` push's shape. */
const ReplyMessage = Type.Object({
  id: Type.String(),
  thread_id: Type.String(),
  role: Type.String(),
  content: Type.String(),
  metadata: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  created_at: Type.String(),
  seq: Seq,
});

/** `reply.start`: an attempt of a turn starts; `message_id` is the user message it answers. */
export const ReplyStartPush = Type.Object({
  type: Type.Literal('reply.start'),
  seq: Seq,
  ...ReplyIds,
  message_id: Type.String(),
});
export type ReplyStartPush = Static<typeof ReplyStartPush>;

/** `reply.end`: the attempt ended; a `complete` reply carries the committed assistant message. */
export const ReplyEndPush = Type.Object({
  type: Type.Literal('reply.end'),
  seq: Seq,
  ...ReplyIds,
  status: Type.Union(REPLY_END_STATUSES.map((status) => Type.Literal(status))),
  message: Type.Optional(ReplyMessage),
  /** The text streamed before a reply ended without being committed (failed, expired). */
  text: Type.Optional(Type.String()),
  error: Type.Optional(Type.Object({ code: Type.String(), message: Type.String() })),
});
export type ReplyEndPush = Static<typeof ReplyEndPush>;

/** `reply.delta`: more reply text; `offset` is the UTF-8 byte length of the text before it. */
const ReplyDeltaFrame = Type.Object({
  type: Type.Literal('reply.delta'),
  ...ReplyIds,
  offset: Type.Integer({ minimum: 0 }),
  text: Type.String(),
});

/** An open reply in `rehydrate`: the text so far, `offset` its UTF-8 byte length. */
export const ReplyView = Type.Object({
  turn_id: Type.String(),
  /** Absent while the turn is queued (no attempt yet). */
  reply_id: Type.Optional(Type.String()),
  status: Type.Union([Type.Literal('queued'), Type.Literal('streaming')]),
  text: Type.String(),
  offset: Type.Integer({ minimum: 0 }),
});
export type ReplyView = Static<typeof ReplyView>;

/** `rehydrate.assistant`: present when an assistant is configured. */
export const AssistantView = Type.Object({
  status: Type.Union(ASSISTANT_STATUSES.map((status) => Type.Literal(status))),
});

/** `assistant`: the assistant's circuit changed (a history event, like `memory`). */
const AssistantPush = Type.Object({
  type: Type.Literal('assistant'),
  seq: Seq,
  status: Type.Union(ASSISTANT_STATUSES.map((status) => Type.Literal(status))),
});

/** A pushed reply frame. */
export type ReplyPush = ReplyStartPush | ReplyEndPush | Static<typeof AssistantPush>;

/** The reply frame models, by `type` (protocol.ts SERVER_FRAMES includes them). */
export const REPLY_FRAMES = {
  'reply.start': ReplyStartPush,
  'reply.end': ReplyEndPush,
  'reply.delta': ReplyDeltaFrame,
  assistant: AssistantPush,
} as const;
