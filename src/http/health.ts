/**
 * @module Liveness and readiness (docs/design.md#http-api). `/healthz` only says the process
 * answers; `/readyz` says whether it should receive traffic, with the detail an operator needs.
 */
import { Elysia } from 'elysia';

/** What readiness reports; the daemon implements it from storage, memory and its own phase. */
export interface Readiness {
  /** `starting` before the port is serving, `draining` after a stop signal. */
  phase(): 'starting' | 'ready' | 'draining';
  /** Why the daemon cannot take writes right now (e.g. storage failure), or undefined. */
  unavailableReason(): string | undefined;
  /** Extra detail: memory status, breaker state, outbox depth, connections. */
  details(): Promise<Record<string, unknown>>;
}

/** The `/healthz` and `/readyz` routes. */
export function healthRoutes(readiness: Readiness) {
  return new Elysia({ name: 'lifeline.health' })
    .get('/healthz', () => ({ status: 'ok' }))
    .get('/readyz', async ({ set }) => {
      const phase = readiness.phase();
      const reason = readiness.unavailableReason();
      const ready = phase === 'ready' && reason === undefined;
      set.status = ready ? 200 : 503;
      const details = await readiness.details();
      return {
        status: ready ? 'ready' : phase === 'ready' ? 'unavailable' : phase,
        reason,
        ...details,
      };
    });
}
