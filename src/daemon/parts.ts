/**
 * @module Builds the parts of a running daemon from config: the memory service, the realtime hub,
 * the HTTP app. Kept apart from the lifecycle so each stays small.
 */
import type { Elysia } from 'elysia';
import type { Config } from '../config/schema.ts';
import { createApp } from '../http/app.ts';
import type { Readiness } from '../http/health.ts';
import type { Logger } from '../lib/log.ts';
import type { Metrics } from '../metrics/registry.ts';
import type { SqliteHandle } from '../storage/open.ts';
import type { Store } from '../storage/store.ts';

/** Everything the lifecycle drives. */
export interface Parts {
  app: Elysia;
  phase: { value: 'starting' | 'ready' | 'draining' };
  /** Runs before the listener closes: tell clients to reconnect, close sockets. */
  beforeClose(deadlineMs: number): Promise<void>;
  /** Runs after the listener closed: flush the outbox within the deadline. */
  afterClose(deadlineMs: number): Promise<void>;
}

/** Inputs of {@link buildApp}. */
export interface PartsInput {
  config: Config;
  store: Store;
  handle: SqliteHandle;
  metrics: Metrics;
  logger: Logger;
}

/** Builds the app and its services. */
export async function buildApp(input: PartsInput): Promise<Parts> {
  const { store, metrics, logger } = input;
  const phase: Parts['phase'] = { value: 'starting' };
  const readiness: Readiness = {
    phase: () => phase.value,
    unavailableReason: () => {
      const health = store.storageHealth();
      return health.ok ? undefined : `storage: ${health.reason ?? 'unavailable'}`;
    },
    details: async () => {
      const outbox = await store.outboxStats();
      return { outbox: { pending: outbox.pending, dead: outbox.dead } };
    },
  };
  const refreshMetrics = async () => {
    const outbox = await store.outboxStats();
    metrics.outboxDepth.set(outbox.pending);
    metrics.outboxDead.set(outbox.dead);
  };
  const app = createApp({ readiness, metrics, logger, refreshMetrics }) as unknown as Elysia;
  return {
    app,
    phase,
    beforeClose: async () => {},
    afterClose: async () => {},
  };
}
