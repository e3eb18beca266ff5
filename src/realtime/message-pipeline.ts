/**
 * @module The one place a message is committed and pushed, whoever writes it (a socket's `message`
 * frame, the HTTP API, the assistant's reply): guard and commit through the memory port, then push
 * the message as storage wrote it to the user's sockets, so the live push, a replay and a rehydrate
 * show one message the same way, `created_at` included (docs/design.md#websocket, #memory).
 *
 * While an assistant is configured, a `user` message commits with its turn in the same
 * transaction (storage/turns.ts), the result names the turn, and the turn runner is woken
 * (docs/protocol.md "Assistant replies").
 */
import type { MemoryPort, MemorySubmission, MemorySubmitResult } from './memory-port.ts';
import type { PushFrame } from './protocol.ts';
import { messageFrame } from './push.ts';

/** What committing a message needs. */
export interface MessagePipelineOptions {
  memory: Pick<MemoryPort, 'submit'>;
  /** Publishes a committed event to the user's sockets except the one with `origin`. */
  fanOut(userId: string, frame: PushFrame, origin?: string): Promise<void>;
  /** The assistant's side of the pipeline; absent when `assistant.backend` is `none`. */
  turns?: TurnQueuePort;
}

/** How the pipeline hands committed turns to the assistant (implemented by src/assistant). */
export interface TurnQueuePort {
  /** True while user messages create turns (`assistant.backend` is not `none`). */
  enabled(): boolean;
  /** A user message committed with a new turn: its thread has work. */
  queued(userId: string, threadId: string, turnId: string): void;
}

/** How one write goes through the pipeline. */
export interface CommitOptions {
  /** The writing socket's connection id: it gets an ack, not the push. */
  origin?: string;
  /** Runs once the message is committed, before the push (a socket's ack goes out here). */
  onCommitted?(seq: number, turnId?: string): void;
}

/**
 * Commits `message` and, when it is new, pushes it. Resolves to the commit's outcome after the
 * push; rejects with LifelineError `unavailable` when storage cannot write (nothing committed, no
 * turn).
 */
export async function commitMessage(
  pipeline: MessagePipelineOptions,
  message: MemorySubmission,
  options: CommitOptions = {},
): Promise<MemorySubmitResult> {
  const createTurn = message.role === 'user' && pipeline.turns?.enabled() === true;
  const result = await pipeline.memory.submit(createTurn ? { ...message, createTurn } : message);
  if (result.kind !== 'ok') return result;
  options.onCommitted?.(result.seq, result.turnId);
  if (!result.duplicate) {
    await pipeline.fanOut(message.userId, messageFrame(result.message), options.origin);
    if (result.turnId !== undefined) {
      pipeline.turns?.queued(message.userId, message.threadId, result.turnId);
    }
  }
  return result;
}
