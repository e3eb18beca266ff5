/**
 * @module The turn routes (docs/assistant.md "Routes"), API key like the rest of `/api/v1`:
 * `GET /api/v1/turns/:turn_id` (status, attempts, the reply so far), `POST …/cancel`, and
 * `POST …/reply`, where an assistant that answered 202 uploads its reply — streamed, in any of the
 * three answer formats, `?offset=N` to resume a cut upload. The request gate leaves that body to
 * the route (its size is bounded by `assistant.max_reply_bytes` as it is read).
 */

import { Elysia, t } from 'elysia';
import type { TurnRunner } from '../assistant/runner.ts';
import { acceptUpload, type UploadOptions } from '../assistant/uploads.ts';
import { utf8Bytes } from '../lib/text.ts';
import type { AssistantPort } from '../realtime/assistant-port.ts';
import type { Store } from '../storage/store.ts';
import { requireApiKey } from './auth-key.ts';
import { HttpError } from './errors.ts';

/** What the turn routes need. */
export interface TurnRoutesOptions {
  apiKey: () => string | undefined;
  store: Pick<Store, 'readTurn'>;
  /** Absent while `assistant.backend = "none"`: the routes answer 404 `no_assistant`. */
  assistant?: {
    runner: TurnRunner;
    /** Cancels a turn wherever it runs (another instance's in cluster mode). */
    port: Pick<AssistantPort, 'cancel'>;
    /** The upload's context (the runner's own), with the live limits. */
    upload(): UploadOptions;
  };
}

/** Room for the framing around an uploaded reply's text (SSE part JSON, JSON keys, metadata). */
export const UPLOAD_SLACK_BYTES = 64 * 1024;

const TURN_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const doc = (summary: string) => ({
  detail: { summary, tags: ['api'], security: [{ apiKey: [] }] },
});

/** The assistant, or 404 when none is configured. */
function assistantOf(options: TurnRoutesOptions) {
  if (options.assistant === undefined) {
    throw new HttpError(
      404,
      'no_assistant',
      'no assistant is configured (assistant.backend = "none"), so there are no turns',
    );
  }
  return options.assistant;
}

function checkTurnId(value: string): string {
  if (!TURN_ID.test(value)) {
    throw new HttpError(400, 'bad_request', 'turn_id: expected a UUID (the ack’s turn_id)');
  }
  return value;
}

const notFound = (turnId: string) =>
  new HttpError(404, 'not_found', `no turn ${turnId}; it may belong to a deleted thread`);

/** `/api/v1/turns/:turn_id` and its actions. */
export function turnRoutes(options: TurnRoutesOptions) {
  return new Elysia({ name: 'lifeline.api.turns' })
    .onBeforeHandle(({ request }) =>
      requireApiKey(request.headers.get('authorization'), options.apiKey()),
    )
    .get('/api/v1/turns/:turn_id', ({ params }) => readTurnView(options, params.turn_id), {
      ...doc('A turn: status, attempts, the reply so far'),
    })
    .post(
      '/api/v1/turns/:turn_id/cancel',
      async ({ params }) => {
        assistantOf(options);
        const turnId = checkTurnId(params.turn_id);
        const turn = await options.store.readTurn(turnId);
        if (turn === null) throw notFound(turnId);
        const outcome = await assistantOf(options).port.cancel(turn.userId, turnId);
        return { turn_id: turnId, cancelled: outcome === 'cancelled' };
      },
      doc('Cancel a turn (idempotent); `reply.end` with `cancelled` follows'),
    )
    .post(
      '/api/v1/turns/:turn_id/reply',
      ({ params, query, request, set }) =>
        upload(options, params.turn_id, query.offset, request, set),
      {
        query: t.Object({ offset: t.Optional(t.String()) }),
        ...doc('Upload the reply of a deferred (202) turn: SSE, text/plain or JSON, streamed'),
      },
    );
}

async function readTurnView(options: TurnRoutesOptions, raw: string) {
  const { runner } = assistantOf(options);
  const turnId = checkTurnId(raw);
  const turn = await options.store.readTurn(turnId);
  if (turn === null) throw notFound(turnId);
  const live = runner.liveReply(turnId);
  const text =
    live?.status === 'streaming' || turn.status === 'deferred'
      ? (live?.text ?? turn.text)
      : turn.text;
  return {
    turn_id: turn.turnId,
    user_id: turn.userId,
    thread_id: turn.threadId,
    message_id: turn.messageId,
    status: turn.status,
    attempt: turn.attempt,
    reply_id: turn.replyId,
    text,
    offset: utf8Bytes(text),
    error: turn.error,
    created_at: new Date(turn.createdAtWallMs).toISOString(),
    updated_at: new Date(turn.updatedAtWallMs).toISOString(),
    next_attempt_at:
      turn.nextAttemptAtWallMs === null ? null : new Date(turn.nextAttemptAtWallMs).toISOString(),
  };
}

async function upload(
  options: TurnRoutesOptions,
  raw: string,
  rawOffset: string | undefined,
  request: Request,
  set: { status?: number | string },
) {
  const assistant = assistantOf(options);
  const turnId = checkTurnId(raw);
  const offset = rawOffset === undefined ? 0 : Number(rawOffset);
  if (
    !Number.isSafeInteger(offset) ||
    offset < 0 ||
    (rawOffset !== undefined && !/^\d+$/.test(rawOffset))
  ) {
    throw new HttpError(
      400,
      'bad_request',
      'offset: expected the UTF-8 byte count already accepted (an integer ≥ 0)',
    );
  }
  const body = request.body ?? new Blob([]).stream();
  const result = await acceptUpload(
    assistant.upload(),
    turnId,
    offset,
    request.headers.get('content-type'),
    body,
    request.signal,
  );
  switch (result.kind) {
    case 'unknown':
      throw notFound(turnId);
    case 'not_deferred':
      throw new HttpError(
        409,
        'turn_not_deferred',
        `turn ${turnId} is ${result.status}; only a turn answered 202 takes an upload`,
      );
    case 'busy':
      throw new HttpError(
        409,
        'upload_in_progress',
        'another upload of this turn is being read; retry when it ends',
      );
    case 'offset_mismatch':
      set.status = 409;
      return {
        error: {
          code: 'offset_mismatch',
          message: `offset: lifeline holds ${result.offset} bytes of this reply; resume from there`,
        },
        offset: result.offset,
      };
    case 'partial':
      set.status = 202;
      return { turn_id: turnId, status: 'deferred', offset: result.offset, error: result.message };
    case 'ended':
      return { turn_id: turnId, status: result.status, offset: result.offset };
  }
}
