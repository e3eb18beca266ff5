/**
 * @module The one place a message is committed and pushed, whoever writes it (a socket's `message`
 * frame, the HTTP API): guard and commit through the memory port, then push the message as storage
 * wrote it to the user's sockets, so the live push, a replay and a rehydrate show one message the
 * same way, `created_at` included (docs/design.md#websocket, #memory).
 */
import type { MemoryPort, MemorySubmission, MemorySubmitResult } from './memory-port.ts';
import type { PushFrame } from './protocol.ts';
import { messageFrame } from './push.ts';

/** What committing a message needs. */
export interface MessagePipelineOptions {
  memory: Pick<MemoryPort, 'submit'>;
  /** Publishes a committed event to the user's sockets except the one with `origin`. */
  fanOut(userId: string, frame: PushFrame, origin?: string): Promise<void>;
}

/** How one write goes through the pipeline. */
export interface CommitOptions {
  /** The writing socket's connection id: it gets an ack, not the push. */
  origin?: string;
  /** Runs once the message is committed, before the push (a socket's ack goes out here). */
  onCommitted?(seq: number): void;
}

/**
 * Commits `message` and, when it is new, pushes it. Resolves to the commit's outcome after the
 * push; rejects with LifelineError `unavailable` when storage cannot write (nothing committed).
 */
export async function commitMessage(
  pipeline: MessagePipelineOptions,
  message: MemorySubmission,
  options: CommitOptions = {},
): Promise<MemorySubmitResult> {
  const result = await pipeline.memory.submit(message);
  if (result.kind !== 'ok') return result;
  options.onCommitted?.(result.seq);
  if (!result.duplicate) {
    await pipeline.fanOut(message.userId, messageFrame(result.message), options.origin);
  }
  return result;
}
