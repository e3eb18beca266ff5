/**
 * @module Cluster mode's moving parts in one place (docs/design.md#operations): the instance id,
 * the heartbeat that keeps this instance in `cluster_members`, the LISTEN that feeds other
 * instances' committed history events to the {@link ClusterFanout}, and the LISTEN that makes the
 * shared circuit's changes reach this instance's breaker at once. Built only when `storage.backend
 * = "postgres"`.
 */
import { hostname } from 'node:os';
import type { Config } from '../config/schema.ts';
import type { Clock } from '../lib/clock.ts';
import type { Logger } from '../lib/log.ts';
import { ClusterFanout } from '../realtime/cluster-fanout.ts';
import { beat, type ClusterMember, leave, liveMembers } from '../storage/postgres/members.ts';
import {
  type HistorySubscription,
  listenForBreaker,
  listenForHistory,
} from '../storage/postgres/notify.ts';
import type { PgHandle } from '../storage/postgres/open.ts';
import type { Store } from '../storage/store.ts';

/** How often an instance refreshes its row in `cluster_members`. */
const HEARTBEAT_INTERVAL_MS = 2000;
/** Missed beats after which a member is no longer listed. */
const MISSED_BEATS = 3;

/** `cluster.instance_id`, or the hostname with a random suffix (a new one per start). */
export function instanceIdOf(config: Config): string {
  const configured = config.cluster.instance_id;
  if (configured !== undefined && configured !== '') return configured;
  const host =
    hostname()
      .replace(/[^A-Za-z0-9.-]/g, '-')
      .slice(0, 40) || 'lifeline';
  return `${host}-${crypto.randomUUID().slice(0, 6)}`;
}

/** The admin status / readyz view of the cluster. */
export interface ClusterView {
  instance_id: string;
  members: Array<{ instance_id: string; address: string; started_at: string; last_seen: string }>;
}

/** A running cluster membership and fan-out. */
export interface ClusterRuntime {
  readonly instanceId: string;
  readonly fanout: ClusterFanout;
  /** Starts the heartbeat and the LISTEN; call once the port is bound (the address is known). */
  start(address: string): Promise<void>;
  /** The live members (reads the table). */
  view(): Promise<ClusterView>;
  /** Stops the heartbeat, leaves the member list, UNLISTENs. Safe twice. */
  stop(): Promise<void>;
}

/** What {@link createCluster} needs. */
interface ClusterOptions {
  instanceId: string;
  side: PgHandle;
  store: Store;
  hasLocal(userId: string): boolean;
  /** Closes `userId`'s local sockets so they resume by themselves (the fan-out lost track). */
  closeLocal(userId: string): void;
  /**
   * Another instance wrote a new version of the shared breaker row (or the LISTEN came back and
   * one may have been missed): read the row now (the memory service's `syncShared()`).
   */
  onBreakerChanged?(): void;
  logger: Logger;
  clock: Clock;
}

/** Builds the fan-out now (the realtime layer needs it) and the membership to start later. */
export function createCluster(input: ClusterOptions): ClusterRuntime {
  const { side, logger, clock, instanceId } = input;
  const self = `lifeline/${instanceId}`.slice(0, 63);
  const fanout = new ClusterFanout({
    history: input.store,
    hasLocal: input.hasLocal,
    onLost: input.closeLocal,
    logger,
  });
  const startedAtWallMs = clock.wallMs();
  let address = '';
  let timer: Timer | undefined;
  let subscription: HistorySubscription | undefined;
  let breakerSubscription: HistorySubscription | undefined;
  let stopped: Promise<void> | undefined;
  const heartbeat = async () => {
    const member: ClusterMember = {
      instanceId,
      address,
      startedAtWallMs,
      lastSeenWallMs: clock.wallMs(),
    };
    await beat(side.sql, member).catch((error: unknown) =>
      logger.warn('cluster heartbeat failed', { error }),
    );
    fanout.prune();
  };
  return {
    instanceId,
    fanout,
    async start(bound) {
      address = bound;
      await heartbeat();
      timer = setInterval(() => void heartbeat(), HEARTBEAT_INTERVAL_MS);
      timer.unref();
      subscription = await subscribe(side, fanout, self, logger);
      const onBreakerChanged = input.onBreakerChanged;
      if (onBreakerChanged !== undefined)
        breakerSubscription = await subscribeBreaker(side, self, onBreakerChanged, logger);
      logger.info('cluster member', { address, heartbeat_ms: HEARTBEAT_INTERVAL_MS });
    },
    async view() {
      const now = clock.wallMs();
      const members = await liveMembers(side.sql, now - HEARTBEAT_INTERVAL_MS * MISSED_BEATS, now);
      return {
        instance_id: instanceId,
        members: members.map((member) => ({
          instance_id: member.instanceId,
          address: member.address,
          started_at: new Date(member.startedAtWallMs).toISOString(),
          last_seen: new Date(member.lastSeenWallMs).toISOString(),
        })),
      };
    },
    stop() {
      stopped ??= (async () => {
        if (timer) clearInterval(timer);
        await fanout.close();
        await subscription?.close().catch(() => {});
        await breakerSubscription?.close().catch(() => {});
        await leave(side.sql, instanceId).catch(() => {});
      })();
      return stopped;
    },
  };
}

/** LISTENs for other instances' history events and feeds them to the fan-out. */
function subscribe(
  side: PgHandle,
  fanout: ClusterFanout,
  self: string,
  logger: Logger,
): Promise<HistorySubscription> {
  return listenForHistory(side.sql, {
    onNotice: (notice) => {
      if (notice.origin === self) return; // delivered in-process when it committed
      void fanout.notice(notice.userId, notice.seq);
    },
    onResubscribed: () => {
      logger.warn('cluster LISTEN re-established; catching local users up from the history');
      void fanout.resync();
    },
    onMalformed: (payload) =>
      logger.warn('ignored a malformed history notification', { bytes: payload.length }),
  });
}

/**
 * LISTENs for new versions of the shared breaker row written by other instances: the circuit
 * follows them at once; the memory service's 1 s poll stays as the net for a lost notification.
 */
function subscribeBreaker(
  side: PgHandle,
  self: string,
  onChanged: () => void,
  logger: Logger,
): Promise<HistorySubscription> {
  return listenForBreaker(side.sql, {
    onNotice: (notice) => {
      if (notice.origin !== self) onChanged(); // this instance's own writes are already applied
    },
    onResubscribed: onChanged,
    onMalformed: (payload) =>
      logger.warn('ignored a malformed breaker notification', { bytes: payload.length }),
  });
}
