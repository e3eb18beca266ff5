/**
 * @module What answers a turn: an {@link AttemptSource} takes the turn request, hands the reply
 * text to `onText` as it arrives and resolves with how the attempt ended. The HTTP backend
 * (http-backend.ts) and the demo assistant (demo.ts) are the two sources; the runner treats them
 * alike (docs/assistant.md).
 */
import type { AttemptEnd, OnText } from './answer-types.ts';

/** How one attempt ended (answer-types.ts, shared with the HTTP reader). */
export type { AttemptEnd } from './answer-types.ts';

/** One attempt of a turn: POSTs `body` (or plays the demo) and streams the reply into `onText`. */
export type AttemptSource = (
  turnId: string,
  body: TurnRequestBody,
  onText: OnText,
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
