/**
 * @module What answers a turn: an {@link AttemptSource} takes the turn request, hands the reply
 * text to `onText` as it arrives and resolves with how the attempt ended. The HTTP backend
 * (http-backend.ts) and the demo assistant (demo.ts) are the two sources; the runner treats them
 * alike (docs/assistant.md).
 */

/** How one attempt ended (docs/assistant.md "The assistant answers"). */
export type AttemptEnd =
  /** The reply is whole: a `finish` part, `[DONE]`, the end of a text/plain body, a JSON answer. */
  | { kind: 'complete'; metadata?: Record<string, unknown> }
  /** 204, or a reply with no text at all. */
  | { kind: 'empty' }
  /** 202: the backend answers later with POST /api/v1/turns/:turn_id/reply. */
  | { kind: 'deferred' }
  /** The backend sent an `abort` part. */
  | { kind: 'cancelled' }
  /** Ends the turn without retry. */
  | {
      kind: 'failed';
      code: 'rejected' | 'too_large' | 'idle_timeout' | 'assistant_error' | 'bad_answer';
      message: string;
      status?: number;
    }
  /** A failure of the assistant service: counts on its circuit; the turn is retried. */
  | { kind: 'unavailable'; message: string; status?: number; retryAfterMs?: number }
  /** Our own signal fired (cancel, interrupt, shutdown). */
  | { kind: 'aborted' };

/** Hands reply text on; awaited, so a slow consumer slows the stream down. */
export type TextSink = (text: string) => void | Promise<void>;

/** One attempt of a turn: POSTs `body` (or plays the demo) and streams the reply into `onText`. */
export type AttemptSource = (
  turnId: string,
  body: TurnRequestBody,
  onText: TextSink,
  signal: AbortSignal,
) => Promise<AttemptEnd>;

/** The body of a turn request (docs/assistant.md "The request"). */
export interface TurnRequestBody {
  type: 'turn';
  turn_id: string;
  attempt: number;
  user_id: string;
  thread_id: string;
  message: TurnMessage;
  /** The thread's last `assistant.history_messages` messages, oldest first, ending with `message`. */
  history: TurnMessage[];
  preferences: unknown;
  personalization: unknown;
  memory: TurnMemory;
  /** Where a deferred (202) answer is uploaded. */
  reply_url: string;
}

/** A message as the assistant sees it. */
export interface TurnMessage {
  id: string;
  role: string;
  content: string;
  metadata?: unknown;
  created_at: string;
  seq: number;
}

/** What memory knew when the turn started. */
export interface TurnMemory {
  status: string;
  degraded: boolean;
  results: Array<Record<string, unknown>>;
  /** Zep v3's prompt-ready user context, when pinned and available. */
  context?: string;
}
