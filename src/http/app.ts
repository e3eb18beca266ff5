/**
 * @module The Elysia app: one instance per concern, composed here (docs/design.md#composition).
 */
import { Elysia } from 'elysia';
import type { Logger } from '../lib/log.ts';
import type { Metrics } from '../metrics/registry.ts';
import { toErrorAnswer } from './errors.ts';
import { healthRoutes, type Readiness } from './health.ts';
import { metricsRoutes } from './metrics.ts';
import { createGate, type GateOptions } from './request-gate.ts';
import { requestLog } from './request-log.ts';
import { statusPageRoutes } from './status-page.ts';

/** What the app needs from the daemon. */
export interface AppOptions {
  readiness: Readiness;
  metrics: Metrics;
  logger: Logger;
  refreshMetrics: () => Promise<void>;
  /**
   * The request gate's inputs (src/http/request-gate.ts). Without them (unit tests of the app) no
   * request is refused before its route, and bodies are parsed by Elysia.
   */
  gate?: GateOptions;
}

/**
 * Builds the HTTP + WebSocket application's base: the request log, the error mapping, the gate,
 * health, metrics and the status page. The daemon continues the chain with `.use()` for realtime,
 * the API and admin (daemon/build.ts), so the app keeps one inferred type; `listen` is its job.
 */
export function createApp(deps: AppOptions) {
  const draining = () => deps.readiness.phase() === 'draining';
  const gate = deps.gate === undefined ? undefined : createGate(deps.gate);
  // The gate reads the raw path from Bun's own router (request-gate.ts), so Elysia's copy of the
  // routes in Bun's router is turned off: every request goes through the gate's segment routes,
  // which hand it to the finished app (set below, once the chain exists).
  let fetchApp: (request: Request) => Response | Promise<Response> = () =>
    new Response(null, { status: 503 });
  const app = new Elysia({
    name: 'lifeline',
    ...(gate === undefined
      ? {}
      : { systemRouter: false, serve: { routes: gate.routes((request) => fetchApp(request)) } }),
  })
    .use(
      requestLog({
        logger: deps.logger,
        metrics: deps.metrics,
        draining,
        ...(gate === undefined ? {} : { gate: gate.check }),
      }),
    )
    .onError(({ code, error, set }) => {
      const answer = toErrorAnswer(code, error, deps.logger);
      set.status = answer.status;
      return answer.body;
    })
    .use(gate === undefined ? new Elysia({ name: 'lifeline.request-gate.off' }) : gate.plugin())
    .use(healthRoutes(deps.readiness))
    .use(metricsRoutes(deps.metrics, deps.refreshMetrics))
    .use(statusPageRoutes());
  // `use` adds to this same instance, so its `fetch` also serves what the daemon mounts later.
  fetchApp = (request) => app.fetch(request);
  return app;
}
