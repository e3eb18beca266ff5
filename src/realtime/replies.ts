/**
 * @module Assistant replies in a snapshot (docs/protocol.md "Assistant replies"): `rehydrate`
 * gains `assistant {status}` and, per thread, the open replies with their text so far; the hub
 * then drops the buffered `reply.delta` frames that text already holds, so a tab that connects
 * mid-stream shows the text at once and continues from the next delta, with no gap and no
 * duplicate.
 */
import type { AssistantPort } from './assistant-port.ts';
import type { RehydrateFrame, ServerFrame } from './protocol.ts';

/** `frame` with the assistant's part, read now; unchanged when no assistant is configured. */
export function withReplies(frame: RehydrateFrame, assistant?: AssistantPort): RehydrateFrame {
  if (assistant === undefined || !assistant.enabled()) return frame;
  const replies = assistant.replies(frame.session.user_id, Object.keys(frame.threads));
  const threads: RehydrateFrame['threads'] = {};
  for (const [id, thread] of Object.entries(frame.threads)) {
    threads[id] = { ...thread, replies: replies[id] ?? [] };
  }
  return { ...frame, threads, assistant: { status: assistant.status() } };
}

/** The UTF-8 byte length of each open reply's text in a rehydrate, by reply id. */
export function coveredOffsets(frame: RehydrateFrame): Map<string, number> {
  const covered = new Map<string, number>();
  for (const thread of Object.values(frame.threads)) {
    for (const reply of thread.replies ?? []) {
      if (reply.reply_id !== undefined) covered.set(reply.reply_id, reply.offset);
    }
  }
  return covered;
}

/** True for a `reply.delta` whose text the rehydrate already showed. */
export function isCoveredDelta(frame: ServerFrame, covered: ReadonlyMap<string, number>): boolean {
  if (frame.type !== 'reply.delta') return false;
  const offset = covered.get(frame.reply_id);
  return offset !== undefined && frame.offset < offset;
}
