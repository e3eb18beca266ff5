/**
 * @module The turn runner (docs/protocol.md "Assistant replies"): takes the queued turns of each
 * thread one at a time, in message order, threads in parallel up to `assistant.max_in_flight`, and
 * streams each reply to every tab of the user: `reply.start` (history), `reply.delta` (live only,
 * through the hub), then the reply committed as an `assistant` message through the one message
 * pipeline (ending its turn in the same transaction) and `reply.end` (history). The text so far is
 * persisted at most every `persistEveryMs`, so a restart retries the attempt (attempt + 1, new
 * reply id) and `rehydrate` shows the text so far from memory.
 *
 * The layer sits between realtime (whose pipeline, frames and hub it uses) and http.
 */
import type { Config } from '../config/schema.ts';
import type { Clock } from '../lib/clock.ts';
import type { Logger } from '../lib/log.ts';
import { utf8Bytes } from '../lib/text.ts';
import type { AssistantPort } from '../realtime/assistant-port.ts';
import type { MemoryPort } from '../realtime/memory-port.ts';
import { commitMessage, type MessagePipelineOptions } from '../realtime/message-pipeline.ts';
import type { PushFrame, ServerFrame } from '../realtime/protocol.ts';
import { messageView, toPushFrame } from '../realtime/push.ts';
import type { AssistantStatus, ReplyEndStatus, ReplyView } from '../realtime/reply-protocol.ts';
import type { Store } from '../storage/store.ts';
import type { StoredTurn } from '../storage/turns.ts';
import { DEMO_WORD_DELAY_MS, demoReply, demoStream } from './demo.ts';

/** What the runner needs. */
export interface TurnRunnerOptions {
  store: Pick<Store, 'readTurn' | 'openTurns' | 'updateTurn' | 'appendEvent' | 'recentMessages'>;
  memory: Pick<MemoryPort, 'submit' | 'search'>;
  /** Publishes a history event (reply.start, reply.end, the reply message) to the user's sockets. */
  fanOut(userId: string, frame: PushFrame): Promise<void>;
  /** Sends a live frame (reply.delta) to every socket of the user (the hub's deliver). */
  deliver(userId: string, frame: ServerFrame): void;
  config(): Config;
  clock: Clock;
  logger: Logger;
  /** Pause between demo words (default {@link DEMO_WORD_DELAY_MS}; tests set their own). */
  wordDelayMs?: number;
  /** Longest time the streamed text goes unpersisted (default 250 ms). */
  persistEveryMs?: number;
  /** Waits between retries of a failed attempt (default 1 s). */
  retryDelayMs?: number;
}

/** An attempt in progress: what `rehydrate` shows of it. */
interface LiveReply {
  userId: string;
  threadId: string;
  turnId: string;
  replyId: string;
  text: string;
  offset: number;
}

interface ThreadQueue {
  userId: string;
  /** Turn ids waiting, in no particular order (the lowest message seq goes first). */
  waiting: Set<string>;
  running: boolean;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The demo assistant's turn runner; implements the realtime layer's {@link AssistantPort}. */
export class TurnRunner implements AssistantPort {
  private readonly threads = new Map<string, ThreadQueue>();
  private readonly live = new Map<string, LiveReply>();
  private readonly ready: string[] = [];
  private inFlight = 0;
  private stopped = false;
  private readonly idle = new Set<Promise<void>>();

  constructor(private readonly options: TurnRunnerOptions) {}

  enabled(): boolean {
    return this.options.config().assistant.backend !== 'none';
  }

  status(): AssistantStatus {
    return this.enabled() ? 'ok' : 'none';
  }

  queued(userId: string, threadId: string, turnId: string): void {
    if (this.stopped) return;
    const queue = this.threads.get(threadId) ?? { userId, waiting: new Set(), running: false };
    queue.waiting.add(turnId);
    this.threads.set(threadId, queue);
    this.schedule(threadId);
  }

  replies(userId: string, threadIds: readonly string[]): Record<string, ReplyView[]> {
    const out: Record<string, ReplyView[]> = {};
    for (const threadId of threadIds) {
      const views: ReplyView[] = [];
      for (const reply of this.live.values()) {
        if (reply.threadId !== threadId || reply.userId !== userId) continue;
        views.push({
          turn_id: reply.turnId,
          reply_id: reply.replyId,
          status: 'streaming',
          text: reply.text,
          offset: reply.offset,
        });
      }
      const queue = this.threads.get(threadId);
      if (queue?.userId === userId) {
        for (const turnId of queue.waiting) {
          views.push({ turn_id: turnId, status: 'queued', text: '', offset: 0 });
        }
      }
      if (views.length > 0) out[threadId] = views;
    }
    return out;
  }

  /** Picks up the turns left open by the last run (interrupted attempts are retried). */
  async start(): Promise<void> {
    for (const turn of await this.options.store.openTurns(100_000)) {
      this.queued(turn.userId, turn.threadId, turn.turnId);
    }
  }

  /** Stops taking turns; a streaming attempt stops where it is and is retried on the next start. */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.allSettled([...this.idle]);
  }

  private schedule(threadId: string): void {
    const queue = this.threads.get(threadId);
    if (queue === undefined || queue.running || queue.waiting.size === 0) return;
    if (this.inFlight >= this.options.config().assistant.max_in_flight) {
      if (!this.ready.includes(threadId)) this.ready.push(threadId);
      return;
    }
    queue.running = true;
    this.inFlight += 1;
    const run = this.drainThread(threadId, queue).finally(() => {
      this.idle.delete(run);
      queue.running = false;
      this.inFlight -= 1;
      if (queue.waiting.size === 0) this.threads.delete(threadId);
      const next = this.ready.shift();
      if (next !== undefined) this.schedule(next);
      this.schedule(threadId);
    });
    this.idle.add(run);
  }

  /** Runs the thread's waiting turns, lowest message seq first, until none is left. */
  private async drainThread(threadId: string, queue: ThreadQueue): Promise<void> {
    while (!this.stopped && queue.waiting.size > 0) {
      const turns: StoredTurn[] = [];
      for (const turnId of queue.waiting) {
        const turn = await this.options.store.readTurn(turnId);
        if (turn === null || (turn.status !== 'queued' && turn.status !== 'streaming')) {
          queue.waiting.delete(turnId);
        } else turns.push(turn);
      }
      turns.sort((a, b) => a.messageSeq - b.messageSeq);
      const turn = turns[0];
      if (turn === undefined) return;
      const done = await this.runTurn(turn).catch((error: unknown) => {
        this.options.logger.error('assistant turn failed', {
          error,
          turn_id: turn.turnId,
          threadId,
        });
        return false;
      });
      if (done) queue.waiting.delete(turn.turnId);
      else if (!this.stopped) await sleep(this.options.retryDelayMs ?? 1000);
    }
  }

  /** One attempt of `turn`; true when the turn ended (false: retry it). */
  private async runTurn(turn: StoredTurn): Promise<boolean> {
    const { store, config } = this.options;
    const attempt = turn.attempt + 1;
    if (attempt > config().assistant.max_attempts) {
      await this.endTurn(turn, crypto.randomUUID(), 'failed', '', 'gave up after max_attempts');
      return true;
    }
    const replyId = crypto.randomUUID();
    await store.updateTurn(turn.turnId, { status: 'streaming', attempt, replyId, text: '' });
    await this.push(turn.userId, 'reply.start', {
      turn_id: turn.turnId,
      thread_id: turn.threadId,
      reply_id: replyId,
      message_id: turn.messageId,
    });
    const reply: LiveReply = { ...turn, replyId, text: '', offset: 0 };
    this.live.set(turn.turnId, reply);
    try {
      if (!(await this.stream(turn, reply))) return false;
      if (reply.text === '') return await this.endTurn(turn, replyId, 'empty', '');
      return await this.complete(turn, reply);
    } finally {
      this.live.delete(turn.turnId);
    }
  }

  /** Streams the demo reply into `reply`; false when stopped midway. */
  private async stream(turn: StoredTurn, reply: LiveReply): Promise<boolean> {
    const { store, memory, config, clock } = this.options;
    const history = await store.recentMessages(turn.threadId, config().assistant.history_messages);
    const asked = history.find((m) => m.id === turn.messageId)?.content ?? '';
    const limit = config().assistant.memory_results;
    const found =
      limit === 0 || asked.trim() === ''
        ? { results: [] }
        : await memory.search({
            userId: turn.userId,
            threadId: turn.threadId,
            query: asked,
            limit,
          });
    const memories = found.results
      .filter((hit) => hit.uuid !== turn.messageId)
      .map((h) => h.content);
    const source = demoStream(
      demoReply(asked, memories),
      this.options.wordDelayMs ?? DEMO_WORD_DELAY_MS,
      sleep,
    );
    let persistedAt = clock.monoMs();
    for (let chunk = await source.next(); chunk !== undefined; chunk = await source.next()) {
      if (this.stopped) return false;
      this.options.deliver(turn.userId, {
        type: 'reply.delta',
        turn_id: turn.turnId,
        thread_id: turn.threadId,
        reply_id: reply.replyId,
        offset: reply.offset,
        text: chunk,
      });
      reply.text += chunk;
      reply.offset += utf8Bytes(chunk);
      if (clock.monoMs() - persistedAt >= (this.options.persistEveryMs ?? 250)) {
        persistedAt = clock.monoMs();
        await store.updateTurn(turn.turnId, { text: reply.text });
      }
    }
    return !this.stopped;
  }

  /** Commits the reply as an assistant message (ending the turn) and pushes `reply.end`. */
  private async complete(turn: StoredTurn, reply: LiveReply): Promise<boolean> {
    const pipeline: MessagePipelineOptions = {
      memory: this.options.memory,
      fanOut: (userId, frame) => this.options.fanOut(userId, frame),
    };
    const result = await commitMessage(pipeline, {
      userId: turn.userId,
      threadId: turn.threadId,
      id: reply.replyId,
      role: 'assistant',
      content: reply.text,
      completesTurn: turn.turnId,
    });
    if (result.kind !== 'ok') {
      return this.endTurn(
        turn,
        reply.replyId,
        'failed',
        reply.text,
        `reply refused: ${result.kind}`,
      );
    }
    const message = result.duplicate ? undefined : messageView(result.message);
    await this.push(turn.userId, 'reply.end', {
      turn_id: turn.turnId,
      thread_id: turn.threadId,
      reply_id: reply.replyId,
      status: 'complete',
      ...(message === undefined ? {} : { message }),
    });
    return true;
  }

  /** Ends a turn without a committed reply. */
  private async endTurn(
    turn: StoredTurn,
    replyId: string,
    status: ReplyEndStatus,
    text: string,
    error?: string,
  ): Promise<boolean> {
    await this.options.store.updateTurn(turn.turnId, { status, text, error: error ?? null });
    await this.push(turn.userId, 'reply.end', {
      turn_id: turn.turnId,
      thread_id: turn.threadId,
      reply_id: replyId,
      status,
      ...(error === undefined ? {} : { error: { code: status, message: error } }),
    });
    return true;
  }

  /** Records a history event and pushes it. */
  private async push(
    userId: string,
    type: string,
    payload: Record<string, unknown>,
  ): Promise<void> {
    const seq = await this.options.store.appendEvent(userId, type, payload);
    const frame = toPushFrame(type, seq, payload);
    if (frame !== undefined) await this.options.fanOut(userId, frame);
  }
}
