/**
 * @module Deferred replies (docs/assistant.md "Deferred replies"): an assistant that answered a
 * turn with 202 uploads the reply later with `POST /api/v1/turns/:turn_id/reply`, in any of the
 * three answer formats, streamed. `?offset=N` (UTF-8 bytes already accepted) resumes an upload that
 * was cut; any other offset is refused with the offset lifeline holds. The text streams to every
 * tab as it arrives, exactly like a streamed answer.
 */
import { utf8Bytes } from '../lib/text.ts';
import type { Store } from '../storage/store.ts';
import { readAnswer } from './answer-stream.ts';
import { endTurn, endWithReply, replySink, type TurnContext } from './attempt.ts';
import type { TurnRunner } from './runner.ts';

/** What an upload answered. */
type UploadResult =
  | { kind: 'ended'; status: string; offset: number }
  /** The body stopped before its end: the text so far is kept; resume from `offset`. */
  | { kind: 'partial'; offset: number; message: string }
  | { kind: 'offset_mismatch'; offset: number }
  | { kind: 'not_deferred'; status: string }
  | { kind: 'busy' }
  | { kind: 'unknown' };

/** What an upload needs. */
export interface UploadOptions extends TurnContext {
  store: TurnContext['store'] & Pick<Store, 'readTurn'>;
  runner: Pick<TurnRunner, 'liveReply' | 'waits'>;
  limits: { maxReplyBytes: number; idleTimeoutMs: number };
}

/** Takes one upload of the reply of deferred turn `turnId`. */
export async function acceptUpload(
  options: UploadOptions,
  turnId: string,
  offset: number,
  contentType: string | null,
  body: ReadableStream<Uint8Array>,
  signal: AbortSignal,
): Promise<UploadResult> {
  const turn = await options.store.readTurn(turnId);
  if (turn === null) return { kind: 'unknown' };
  if (turn.status !== 'deferred') return { kind: 'not_deferred', status: turn.status };
  const reply = options.runner.liveReply(turnId);
  if (reply === undefined) return { kind: 'busy' };
  const { uploading } = options.runner.waits;
  if (uploading.has(turnId)) return { kind: 'busy' };
  if (offset !== reply.offset) return { kind: 'offset_mismatch', offset: reply.offset };
  uploading.add(turnId);
  try {
    const limits = {
      ...options.limits,
      maxReplyBytes: options.limits.maxReplyBytes - reply.offset,
    };
    const sink = replySink(options, reply);
    const end = await readAnswer(contentType, body, limits, sink, signal);
    const current = { ...turn, replyId: reply.replyId, text: reply.text };
    // Cancelled while the body was read: the cancel ended the turn with the text so far.
    const now = await options.store.readTurn(turnId);
    if (now?.status !== 'deferred') {
      return { kind: 'ended', status: now?.status ?? 'cancelled', offset: reply.offset };
    }
    // A body that went silent is a cut upload like any other: keep its text for a resume.
    if (end.kind === 'failed' && end.code === 'idle_timeout') {
      await options.store.updateTurn(turnId, { text: reply.text });
      return { kind: 'partial', offset: reply.offset, message: end.message };
    }
    switch (end.kind) {
      case 'complete':
        await endWithReply(options, current, reply, 'complete', end.metadata);
        break;
      case 'empty':
      case 'deferred':
        await endWithReply(options, current, reply, 'complete');
        break;
      case 'cancelled':
        await endWithReply(options, current, reply, 'cancelled');
        break;
      case 'failed':
        await endTurn(options, current, reply.replyId, 'failed', reply.text, {
          code: end.code,
          message: end.message,
        });
        break;
      case 'unavailable':
      case 'aborted':
        // Cut midway: keep what arrived so the next upload resumes from it.
        await options.store.updateTurn(turnId, { text: reply.text });
        return {
          kind: 'partial',
          offset: utf8Bytes(reply.text),
          message: end.kind === 'unavailable' ? end.message : 'upload aborted',
        };
    }
    options.runner.waits.finish(turnId);
    const ended = await options.store.readTurn(turnId);
    return { kind: 'ended', status: ended?.status ?? 'complete', offset: reply.offset };
  } finally {
    uploading.delete(turnId);
  }
}
