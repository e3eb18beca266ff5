/**
 * @module Pushed events between the history and the wire: the payload each event type stores, and
 * the frame built from `(type, seq, payload)` — the same function serves a live push and a replay,
 * so a resumed client sees exactly what a connected one saw (docs/design.md#websocket, #epochs).
 *
 * Stored payloads: storage writes `preferences`, `personalization` and `message` itself
 * (storage/events.ts); `memory` {status} and `event` {event, data} are given by their writers.
 */
import { Value } from '@sinclair/typebox/value';
import { assert } from '../lib/assert.ts';
import { messageEventPayload } from '../storage/events.ts';
import type { StoredMessage } from '../storage/store.ts';
import type { MemorySearchHit } from './memory-port.ts';
import {
  MEMORY_STATUSES,
  type MemoryResultView,
  type MemoryStatus,
  type MessageView,
  type PushFrame,
} from './protocol.ts';
import { REPLY_FRAMES } from './reply-protocol.ts';

type Obj = Record<string, unknown>;

function isObject(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A stored object shown to a client: `{}` when never set (or not an object). */
export function objectOrEmpty(value: unknown): Obj {
  return isObject(value) ? value : {};
}

/** RFC 3339 UTC text of a wall-clock time. */
export function isoTime(wallMs: number): string {
  return new Date(wallMs).toISOString();
}

/** A stored message as clients see it. */
export function messageView(message: StoredMessage): MessageView {
  const view: MessageView = {
    id: message.id,
    thread_id: message.threadId,
    role: message.role,
    content: message.content,
    created_at: isoTime(message.createdAtWallMs),
    seq: message.seq,
  };
  if (isObject(message.metadata)) view.metadata = message.metadata;
  return view;
}

/**
 * The `message` push of a committed message: the frame its stored history event replays as
 * (storage/events.ts builds that event from the same row).
 */
export function messageFrame(message: StoredMessage): PushFrame {
  const frame = toPushFrame('message', message.seq, messageEventPayload(message));
  assert(frame !== undefined, 'a message event payload always has its frame');
  return frame;
}

/**
 * The frame for a history event, or undefined when the payload does not have its type's shape
 * (then a replay must not claim to be complete).
 */
export function toPushFrame(type: string, seq: number, payload: unknown): PushFrame | undefined {
  if (!isObject(payload)) return undefined;
  switch (type) {
    case 'preferences':
      return { type, seq, preferences: objectOrEmpty(payload.preferences) };
    case 'personalization':
      if (typeof payload.thread_id !== 'string') return undefined;
      return {
        type,
        seq,
        thread_id: payload.thread_id,
        state: objectOrEmpty(payload.personalization),
      };
    case 'message':
      if (!isObject(payload.message)) return undefined;
      return { type, seq, message: { ...(payload.message as Omit<MessageView, 'seq'>), seq } };
    case 'memory':
      if (!MEMORY_STATUSES.includes(payload.status as MemoryStatus)) return undefined;
      return { type, seq, status: payload.status as MemoryStatus };
    case 'event':
      if (typeof payload.event !== 'string') return undefined;
      return { type, seq, event: payload.event, data: payload.data ?? null };
    case 'reply.start':
    case 'reply.end':
    case 'assistant': {
      const frame = { ...payload, type, seq };
      return Value.Check(REPLY_FRAMES[type], frame) ? (frame as PushFrame) : undefined;
    }
    default:
      return undefined;
  }
}

/** A search hit as clients see it: absent fields are left out, never null. */
export function memoryResultView(hit: MemorySearchHit): MemoryResultView {
  const view: MemoryResultView = { content: hit.content };
  if (typeof hit.role === 'string') view.role = hit.role;
  if (typeof hit.score === 'number' && Number.isFinite(hit.score)) view.score = hit.score;
  if (typeof hit.uuid === 'string') view.message_id = hit.uuid;
  if (typeof hit.createdAt === 'string') view.created_at = hit.createdAt;
  return view;
}
