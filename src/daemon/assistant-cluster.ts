/**
 * @module The assistant in cluster mode (docs/decisions.md "Assistant turns across instances"):
 * the per-thread turn lease held under this instance's id, the poll that takes over the open
 * turns of a dead instance, and the relay that carries live replies between instances over
 * PostgreSQL NOTIFY and mirrors the other instances' replies for `rehydrate`. Built only when
 * `storage.backend = "postgres"`.
 */
import { OPEN_TURNS_POLL_MS, StoreTurnLeases } from '../assistant/cluster-turns.ts';
import { ReplyRelay } from '../assistant/reply-relay.ts';
import type { TurnRunner } from '../assistant/runner.ts';
import type { Clock } from '../lib/clock.ts';
import type { Logger } from '../lib/log.ts';
import type { AssistantPort } from '../realtime/assistant-port.ts';
import type { Hub } from '../realtime/hub.ts';
import type { ServerFrame } from '../realtime/protocol.ts';
import type { ReplyView } from '../realtime/reply-protocol.ts';
import {
  type HistorySubscription,
  listenForReplies,
  MAX_NOTIFY_PAYLOAD_BYTES,
  notifyReply,
} from '../storage/postgres/notify.ts';
import type { PgHandle } from '../storage/postgres/open.ts';
import type { Store } from '../storage/store.ts';

/** What the cluster part is built over. */
export interface AssistantClusterParts {
  instanceId: string;
  /** The cluster's side pool (LISTEN/NOTIFY). */
  side: PgHandle;
  store: Store;
  hub: Hub;
  clock: Clock;
  logger: Logger;
}

/** The assistant's cluster part. */
export interface AssistantCluster {
  leases: StoreTurnLeases;
  /** Hands each live reply frame this instance produces to the other instances. */
  published(userId: string, frame: ServerFrame): void;
  /** The runner as the realtime layer sees it: its replies plus the other instances'. */
  portOf(runner: TurnRunner): AssistantPort;
  /** Starts polling the open turns into `runner` (after its start). */
  poll(runner: TurnRunner): void;
  /** Stops the poll and the LISTEN. */
  stop(): Promise<void>;
}

/** LISTENs for the other instances' replies; the lease and relay over this instance's id. */
export async function assistantClusterOf(parts: AssistantClusterParts): Promise<AssistantCluster> {
  const { instanceId, side, store, hub, clock, logger } = parts;
  const leases = new StoreTurnLeases({ store, holder: instanceId, clock, logger });
  const cancelled: { runner?: TurnRunner } = {};
  const relay = new ReplyRelay({
    origin: instanceId,
    send: (payload) => notifyReply(side.sql, payload),
    maxPayloadBytes: MAX_NOTIFY_PAYLOAD_BYTES,
    deliver: (userId, frame) => void hub.deliver(userId, frame),
    wallMs: () => clock.wallMs(),
    logger,
    onCancel: (userId, turnId, threadId) => {
      if (leases.holds(threadId)) void cancelled.runner?.cancel(userId, turnId);
    },
  });
  const subscription: HistorySubscription = await listenForReplies(side.sql, {
    onNotice: (payload) => relay.received(payload),
    onResubscribed: () => relay.resubscribed(),
  });
  let timer: Timer | undefined;
  return {
    leases,
    published: (userId, frame) => relay.published(userId, frame),
    portOf(runner) {
      cancelled.runner = runner;
      const cancel = (userId: string, turnId: string) =>
        cancelAnywhere({ ...parts, runner, leases, relay }, userId, turnId);
      return { ...withRemoteReplies(runner, relay), cancel };
    },
    poll(runner) {
      timer = setInterval(() => {
        store
          .openTurns(100_000)
          .then((turns) => {
            for (const turn of turns) runner.queued(turn.userId, turn.threadId, turn.turnId, true);
          })
          .catch((error: unknown) => logger.warn('open turns not read', { error }));
      }, OPEN_TURNS_POLL_MS);
      timer.unref();
    },
    async stop() {
      clearInterval(timer);
      await subscription.close().catch(() => {});
    },
  };
}

/** What {@link cancelAnywhere} needs. */
interface CancelParts extends AssistantClusterParts {
  runner: TurnRunner;
  leases: StoreTurnLeases;
  relay: ReplyRelay;
}

/**
 * Cancels a turn wherever it runs: here when this instance works its thread (or nobody does: the
 * thread is leased for a moment so no instance starts it meanwhile), else through the instance
 * holding the thread, which aborts the stream and pushes `reply.end`.
 */
async function cancelAnywhere(cx: CancelParts, userId: string, turnId: string) {
  const { runner, store, leases, instanceId } = cx;
  const turn = await store.readTurn(turnId);
  if (turn === null || turn.userId !== userId || leases.holds(turn.threadId)) {
    return runner.cancel(userId, turnId);
  }
  if (turn.status !== 'queued' && turn.status !== 'streaming' && turn.status !== 'deferred') {
    return 'done';
  }
  const until = cx.clock.wallMs() + CANCEL_LEASE_MS;
  if (await store.leaseTurns(turn.threadId, instanceId, until)) {
    try {
      return await runner.cancel(userId, turnId);
    } finally {
      if (!leases.holds(turn.threadId)) await store.releaseTurns(turn.threadId, instanceId);
    }
  }
  cx.relay.cancelRemote(userId, turnId, turn.threadId);
  return 'cancelled';
}

/** How long a cancel holds an idle thread's lease while it ends the turn. */
const CANCEL_LEASE_MS = 5000;

/** `runner` whose `replies` adds the replies streaming on other instances (its own come first). */
function withRemoteReplies(runner: TurnRunner, relay: ReplyRelay): AssistantPort {
  return {
    enabled: () => runner.enabled(),
    queued: (userId, threadId, turnId) => runner.queued(userId, threadId, turnId),
    status: () => runner.status(),
    cancel: (userId, turnId) => runner.cancel(userId, turnId),
    onStatusChange: (listener) => runner.onStatusChange(listener),
    replies(userId, threadIds) {
      const out = runner.replies(userId, threadIds);
      for (const threadId of threadIds) {
        const local = out[threadId] ?? [];
        const known = new Set(local.map((view) => view.turn_id));
        const remote = relay.replies(userId, threadId).filter((v) => !known.has(v.turn_id));
        if (remote.length > 0) out[threadId] = [...local, ...remote] satisfies ReplyView[];
      }
      return out;
    },
  };
}
