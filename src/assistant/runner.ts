/**
 * @module The turn runner (docs/assistant.md#a-turn): each thread's open turns one at a time, in
 * message order; attempts within `assistant.max_in_flight` slots, under the assistant's circuit,
 * retried on the schedule of retry.ts while the assistant is unavailable, until the attempt budget
 * or the time to live. The layer sits between realtime (its pipeline, frames, hub) and http.
 */
import type { Config } from '../config/schema.ts';
import { utf8Bytes } from '../lib/text.ts';
import type { AssistantPort } from '../realtime/assistant-port.ts';
import type { AssistantStatus, ReplyView } from '../realtime/reply-protocol.ts';
import type { Store } from '../storage/store.ts';
import { isOpenTurn, type StoredTurn } from '../storage/turns.ts';
import {
  endTurn,
  endWithReply,
  type LiveReply,
  replySink,
  runSource,
  startAttempt,
  type TurnContext,
} from './attempt.ts';
import { type AssistantCircuit, type CircuitPermit, NO_CIRCUIT } from './circuit.ts';
import { drainLeased, type TurnLeases } from './cluster-turns.ts';
import { retryDelayMs } from './retry.ts';
import type { AttemptEnd, AttemptSource } from './source.ts';
import { buildTurnRequest, type TurnRequestOptions } from './turn-request.ts';
import { Slots, TurnWaits } from './waits.ts';

/** What the runner needs. */
export interface TurnRunnerOptions extends TurnContext {
  store: TurnContext['store'] & Pick<Store, 'readTurn' | 'openTurns' | 'readSnapshot'>;
  memory: TurnContext['memory'] & TurnRequestOptions['memory'];
  config(): Config;
  /** What answers: the HTTP backend or the demo. */
  source: AttemptSource;
  /** The assistant's circuit (the HTTP backend); absent for the demo, which cannot be down. */
  circuit?: AssistantCircuit;
  /** The daemon's own base URL, for `reply_url` (read per request: the port may be picked late). */
  baseUrl(): string;
  /** Called when a deferred turn is cancelled (the HTTP backend announces it). */
  onDeferredCancel?(turnId: string): void;
  random?: () => number;
  /** Cluster mode: a thread's turns are worked under its lease (cluster-turns.ts). */
  leases?: TurnLeases;
}

interface ThreadQueue {
  userId: string;
  /** Turn ids waiting, in no particular order (the lowest message seq goes first). */
  waiting: Set<string>;
  running: boolean;
}

/** Why a turn's controller was aborted. */
type StopReason = 'cancel' | 'stop';

/** Runs turns; implements the realtime layer's {@link AssistantPort}. */
export class TurnRunner implements AssistantPort {
  private readonly threads = new Map<string, ThreadQueue>();
  /** Replies of turns being worked on, by turn id. */
  private readonly live = new Map<string, LiveReply>();
  /** The controller of each turn being worked on (waiting or streaming). */
  private readonly controllers = new Map<string, AbortController>();
  /** Attempts streaming at once, up to `assistant.max_in_flight`. */
  private readonly slots = new Slots();
  private stopped = false;
  private readonly idle = new Set<Promise<void>>();
  /** Deferred turns waiting for their upload (uploads.ts drives them). */
  readonly waits = new TurnWaits();

  /** When the assistant's circuit last closed: retry delays from before then are dropped. */
  private recoveredAtWallMs = Number.NEGATIVE_INFINITY;

  constructor(private readonly options: TurnRunnerOptions) {
    options.circuit?.onStatusChange((status) => {
      if (status !== 'ok') return;
      this.recoveredAtWallMs = options.clock.wallMs();
      this.waits.wakeAll();
    });
  }

  enabled(): boolean {
    return this.options.config().assistant.backend !== 'none';
  }

  status(): AssistantStatus {
    if (!this.enabled()) return 'none';
    return this.options.circuit?.status() ?? 'ok';
  }

  /** The circuit's state (`closed` for the demo, which has none). */
  circuitState(): string {
    return this.options.circuit?.state ?? 'closed';
  }

  /** Called on each change of {@link status} (the circuit's). */
  onStatusChange(listener: (status: AssistantStatus) => void): () => void {
    return this.options.circuit?.onStatusChange(listener) ?? (() => {});
  }

  queued(userId: string, threadId: string, turnId: string, fromStore = false): void {
    if (this.stopped) return;
    const queue = this.threads.get(threadId) ?? { userId, waiting: new Set(), running: false };
    if (fromStore && queue.waiting.has(turnId)) return;
    if (!fromStore && this.options.config().assistant.on_new_message === 'interrupt') {
      for (const earlier of queue.waiting) void this.cancel(userId, earlier);
    }
    queue.waiting.add(turnId);
    this.threads.set(threadId, queue);
    this.schedule(threadId);
  }

  replies(userId: string, threadIds: readonly string[]): Record<string, ReplyView[]> {
    const out: Record<string, ReplyView[]> = {};
    for (const threadId of threadIds) {
      const queue = this.threads.get(threadId);
      if (queue?.userId !== userId) continue;
      const views: ReplyView[] = [];
      for (const turnId of queue.waiting) views.push(this.viewOf(turnId));
      if (views.length > 0) out[threadId] = views;
    }
    return out;
  }

  /** Replies streaming now and turns waiting, for the metrics gauges and the status page. */
  stats(): { streaming: number; queued: number } {
    let streaming = 0;
    for (const reply of this.live.values()) if (reply.status === 'streaming') streaming += 1;
    let open = 0;
    for (const queue of this.threads.values()) open += queue.waiting.size;
    return { streaming, queued: Math.max(0, open - streaming) };
  }

  /** The live view of an open turn this runner holds, or undefined. */
  liveReply(turnId: string): LiveReply | undefined {
    return this.live.get(turnId);
  }

  private viewOf(turnId: string): ReplyView {
    const reply = this.live.get(turnId);
    if (reply === undefined || reply.status === 'queued') {
      return { turn_id: turnId, status: 'queued', text: '', offset: 0 };
    }
    const { replyId, text, offset } = reply;
    return { turn_id: turnId, reply_id: replyId, status: 'streaming', text, offset };
  }

  /** Cancels a turn of `userId` (the outcomes: AssistantPort.cancel). */
  async cancel(
    userId: string,
    turnId: string,
  ): Promise<'cancelled' | 'done' | 'forbidden' | 'unknown'> {
    const turn = await this.options.store.readTurn(turnId);
    if (turn === null) return 'unknown';
    if (turn.userId !== userId) return 'forbidden';
    if (!isOpenTurn(turn)) return 'done';
    const controller = this.controllers.get(turnId);
    if (controller !== undefined) {
      controller.abort('cancel' satisfies StopReason);
      return 'cancelled';
    }
    // Not being worked on (waiting behind an earlier turn of its thread): end it here.
    this.threads.get(turn.threadId)?.waiting.delete(turnId);
    await endTurn(this.options, turn, turn.replyId, 'cancelled', turn.text);
    return 'cancelled';
  }

  /** Picks up the turns left open by the last run (interrupted attempts are retried). */
  async start(): Promise<void> {
    for (const turn of await this.options.store.openTurns(100_000)) {
      this.queued(turn.userId, turn.threadId, turn.turnId, true);
    }
  }

  /** Stops taking turns; a streaming attempt stops where it is and is retried on the next start. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const controller of this.controllers.values())
      controller.abort('stop' satisfies StopReason);
    await Promise.allSettled([...this.idle]);
  }

  private schedule(threadId: string): void {
    // Stopped: nothing starts again (a drain that just ended must not re-schedule its thread in
    // a loop of microtasks while stop() waits for it).
    if (this.stopped) return;
    const queue = this.threads.get(threadId);
    if (queue === undefined || queue.running || queue.waiting.size === 0) return;
    queue.running = true;
    const leased = { threadId, queue, controllers: this.controllers };
    const drained = drainLeased(this.options.leases, leased, () => this.drainThread(queue));
    const run = drained.finally(() => {
      this.idle.delete(run);
      queue.running = false;
      if (queue.waiting.size === 0) this.threads.delete(threadId);
      this.schedule(threadId);
    });
    this.idle.add(run);
  }

  /** Runs the thread's waiting turns, lowest message seq first, until none is left. */
  private async drainThread(queue: ThreadQueue): Promise<void> {
    while (!this.stopped && queue.waiting.size > 0) {
      await this.options.leases?.refresh(queue.waiting); // turns other instances accepted
      const turns: StoredTurn[] = [];
      for (const turnId of [...queue.waiting]) {
        const turn = await this.options.store.readTurn(turnId);
        if (turn === null || !isOpenTurn(turn)) queue.waiting.delete(turnId);
        else turns.push(turn);
      }
      turns.sort((a, b) => a.messageSeq - b.messageSeq);
      const turn = turns[0];
      if (turn === undefined) return;
      const controller = new AbortController();
      this.controllers.set(turn.turnId, controller);
      try {
        await this.runTurn(turn, controller.signal);
      } catch (error) {
        // A storage failure: the turn stays open and is taken again after a pause.
        this.options.logger.error('assistant turn failed', { error, turn_id: turn.turnId });
        await this.waits.sleep(1000, controller.signal);
      } finally {
        this.controllers.delete(turn.turnId);
        this.live.delete(turn.turnId);
      }
      if (this.stopped) return;
      if (!isOpenTurn(await this.options.store.readTurn(turn.turnId))) {
        queue.waiting.delete(turn.turnId);
      }
    }
  }

  /** Works on `turn` until it ends or the runner stops. */
  private async runTurn(initial: StoredTurn, signal: AbortSignal): Promise<void> {
    let turn = initial;
    // A deferred turn keeps the text uploaded so far (an upload resumes from its offset).
    const kept = turn.status === 'deferred' ? turn.text : '';
    this.live.set(turn.turnId, {
      ...turn,
      replyId: turn.replyId ?? '',
      text: kept,
      offset: utf8Bytes(kept),
      status: 'queued',
    });
    for (;;) {
      if (signal.aborted) return this.aborted(turn, signal);
      const { assistant } = this.options.config();
      const expiresAt = turn.createdAtWallMs + assistant.turn_ttl_s * 1000;
      const now = this.options.clock.wallMs();
      if (now >= expiresAt) {
        return endTurn(this.options, turn, turn.replyId, 'expired', turn.text, {
          code: 'expired',
          message: `no reply within assistant.turn_ttl_s (${assistant.turn_ttl_s} s)`,
        });
      }
      if (turn.status === 'deferred') return this.awaitUpload(turn, expiresAt, signal);
      if (turn.attempt >= assistant.max_attempts) {
        return endTurn(this.options, turn, turn.replyId, 'failed', turn.text, {
          code: 'max_attempts',
          message: `the assistant did not answer in ${turn.attempt} attempts (assistant.max_attempts)`,
        });
      }
      // A delay set by a failure from before the assistant came back is not waited out.
      const delayed =
        turn.updatedAtWallMs > this.recoveredAtWallMs ? turn.nextAttemptAtWallMs : null;
      const notBefore = Math.min(delayed ?? 0, expiresAt);
      if (notBefore > now) {
        await this.waits.sleep(notBefore - now, signal);
        continue;
      }
      if (!(await this.slots.take(() => assistant.max_in_flight, signal))) continue;
      let next: StoredTurn | null | undefined;
      try {
        const permit =
          this.options.circuit === undefined ? NO_CIRCUIT : this.options.circuit.acquire();
        if (permit !== null) next = await this.attempt(turn, permit, signal);
      } finally {
        this.slots.give();
      }
      if (next === null) return;
      if (next === undefined) {
        // The circuit refuses: wait for its next probe time, spending no attempt.
        const waitMs = Math.min(this.options.circuit?.waitMs() ?? 250, expiresAt - now);
        await this.waits.sleep(waitMs, signal);
        continue;
      }
      turn = next;
    }
  }

  /** One attempt; the turn as it stands when it must be tried again, else null (it ended). */
  private async attempt(
    turn: StoredTurn,
    permit: CircuitPermit,
    signal: AbortSignal,
  ): Promise<StoredTurn | null> {
    const attempt = turn.attempt + 1;
    const body = await buildTurnRequest(
      { ...this.options, config: this.options.config(), baseUrl: this.options.baseUrl() },
      turn,
      attempt,
    );
    if (body === null) {
      permit.succeeded();
      await endTurn(this.options, turn, turn.replyId, 'failed', '', {
        code: 'message_gone',
        message: 'the message this turn answers is no longer stored',
      });
      return null;
    }
    const reply = await startAttempt(this.options, turn, attempt);
    this.live.set(turn.turnId, reply);
    const sink = replySink(this.options, reply, () => permit.succeeded());
    const end = await runSource(this.options.source, body, sink, signal);
    const started = { ...turn, attempt, replyId: reply.replyId, text: reply.text };
    return this.settle(started, reply, end, permit, signal);
  }

  /** Acts on how an attempt ended. */
  private async settle(
    turn: StoredTurn,
    reply: LiveReply,
    end: AttemptEnd,
    permit: CircuitPermit,
    signal: AbortSignal,
  ): Promise<StoredTurn | null> {
    const cx = this.options;
    if (end.kind === 'unavailable') {
      permit.failed(end.message, end.retryAfterMs);
      const wait = retryDelayMs(turn.attempt, end.retryAfterMs, cx.random);
      const nextAttemptAtWallMs = cx.clock.wallMs() + wait;
      await cx.store.updateTurn(turn.turnId, {
        status: 'queued',
        nextAttemptAtWallMs,
        text: '',
        error: `unavailable: ${end.message}`,
      });
      cx.logger.warn('assistant attempt failed; retrying', {
        turn_id: turn.turnId,
        attempt: turn.attempt,
        retry_in_ms: wait,
        error: end.message,
      });
      reply.status = 'queued';
      const updatedAtWallMs = cx.clock.wallMs();
      return { ...turn, status: 'queued', nextAttemptAtWallMs, updatedAtWallMs, text: '' };
    }
    if (end.kind === 'failed' && end.code === 'idle_timeout') permit.failed(end.message);
    else permit.succeeded();
    switch (end.kind) {
      case 'complete':
        await endWithReply(cx, turn, reply, 'complete', end.metadata);
        return null;
      case 'empty':
        await endTurn(cx, turn, reply.replyId, 'empty', '');
        return null;
      case 'cancelled':
        await endWithReply(cx, turn, reply, 'cancelled');
        return null;
      case 'failed':
        await endTurn(cx, turn, reply.replyId, 'failed', reply.text, {
          code: end.code,
          message: end.status === undefined ? end.message : `${end.message} (HTTP ${end.status})`,
        });
        return null;
      case 'deferred':
        await cx.store.updateTurn(turn.turnId, { status: 'deferred', text: '' });
        reply.status = 'queued';
        return { ...turn, status: 'deferred', text: '' };
      case 'aborted':
        await this.aborted(turn, signal, reply);
        return null;
    }
  }

  /** The turn's controller fired: a cancel ends it, a stop leaves it for the next start. */
  private async aborted(turn: StoredTurn, signal: AbortSignal, reply?: LiveReply): Promise<void> {
    if (signal.reason !== 'cancel') return;
    if (turn.status === 'deferred') this.options.onDeferredCancel?.(turn.turnId);
    if (reply !== undefined) return endWithReply(this.options, turn, reply, 'cancelled');
    return endTurn(this.options, turn, turn.replyId, 'cancelled', '');
  }

  /** A deferred turn: waits for its upload (uploads.ts), its expiry or a cancel. */
  private async awaitUpload(
    turn: StoredTurn,
    expiresAt: number,
    signal: AbortSignal,
  ): Promise<void> {
    const outcome = await this.waits.upload(
      turn.turnId,
      expiresAt - this.options.clock.wallMs(),
      signal,
    );
    if (outcome === 'timeout') return; // the loop's next pass ends it expired
    if (outcome === 'aborted') return this.aborted(turn, signal, this.live.get(turn.turnId));
  }
}
