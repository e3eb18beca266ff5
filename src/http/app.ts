/**
 * @module The Elysia app: one instance per concern, composed here (docs/design.md#composition).
 */
import { Elysia } from 'elysia';
import type { Logger } from '../lib/log.ts';
import type { Metrics } from '../metrics/registry.ts';
import { toErrorAnswer } from './errors.ts';
import { healthRoutes, type Readiness } from './health.ts';
import { metricsRoutes } from './metrics.ts';
import { requestLog } from './request-log.ts';
import { statusPageRoutes } from './status-page.ts';

/** What the app needs from the daemon. */
export interface AppDeps {
  readiness: Readiness;
  metrics: Metrics;
  logger: Logger;
  refreshMetrics: () => Promise<void>;
  /** Further plugins (realtime, API, admin) mounted in order. */
  plugins?: Array<Elysia<string>>;
}

/** Builds the HTTP + WebSocket application; `listen` is the daemon's job. */
export function createApp(deps: AppDeps) {
  const draining = () => deps.readiness.phase() === 'draining';
  const app = new Elysia({ name: 'lifeline' })
    .use(requestLog({ logger: deps.logger, metrics: deps.metrics, draining }))
    .onError(({ code, error, set }) => {
      const answer = toErrorAnswer(code, error, deps.logger);
      set.status = answer.status;
      return answer.body;
    })
    .use(healthRoutes(deps.readiness))
    .use(metricsRoutes(deps.metrics, deps.refreshMetrics))
    .use(statusPageRoutes());
  for (const plugin of deps.plugins ?? []) app.use(plugin);
  return app;
}
