/**
 * @module The admin API (docs/design.md#http-api), same bearer key: the status the operator page
 * polls, the runtime config (every key with its source, secrets redacted; PATCH of tunables, all or
 * nothing, audited as actor `api`), and manual breaker control. The data comes from a
 * consumer-owned {@link AdminPort} that the daemon implements.
 */
import { Elysia, t } from 'elysia';
import type { ConfigIssue } from '../config/issue.ts';
import { configRowJson, type ShownKey } from '../config/show.ts';
import { requireObject } from './api.ts';
import { requireApiKey } from './auth-key.ts';
import { HttpError } from './errors.ts';
import type { AdminStatus } from './status-page.ts';

/** Manual breaker actions: force open, force closed, or closed with counters cleared. */
export type BreakerAction = 'open' | 'close' | 'reset';

/** Outcome of {@link AdminPort.patchConfig}. */
type AdminPatchResult = { ok: true; changed: string[] } | { ok: false; issues: ConfigIssue[] };

/** What the admin routes read and drive; the daemon implements it. */
export interface AdminPort {
  /** The body of `GET /api/v1/admin/status` (answered 200 in every daemon phase). */
  status(): Promise<AdminStatus>;
  /** Applies a manual breaker action (persisted and logged like any transition). */
  breaker(action: BreakerAction): Promise<void>;
  /** Every key with its value and source, secrets redacted (`config show`). */
  configView(): readonly ShownKey[];
  /**
   * Checks the changes against the stored state they replace, persists those that change a value
   * with `actor` in the audit trail and applies them live, all or nothing, atomically.
   */
  patchConfig(changes: Record<string, unknown>, actor: string): Promise<AdminPatchResult>;
}

function refuse(issues: readonly ConfigIssue[]): never {
  const message = issues
    .map((issue) => `${issue.key}: ${issue.message}${issue.fix ? ` (${issue.fix})` : ''}`)
    .join('; ');
  throw new HttpError(400, 'bad_request', message || 'no change given');
}

const security = [{ apiKey: [] }];

/** The `/api/v1/admin` routes. */
export function adminRoutes(deps: { apiKey: () => string | undefined; admin: AdminPort }) {
  const { admin } = deps;
  const breakerRoute = (action: BreakerAction) => async () => {
    await admin.breaker(action);
    return (await admin.status()).breaker;
  };
  const breakerDetail = (summary: string) => ({ detail: { summary, tags: ['admin'], security } });
  return new Elysia({ name: 'lifeline.admin' })
    .onBeforeHandle(({ request }) =>
      requireApiKey(request.headers.get('authorization'), deps.apiKey()),
    )
    .get('/api/v1/admin/status', () => admin.status(), {
      detail: { summary: 'Daemon, memory, breaker and outbox status', tags: ['admin'], security },
    })
    .get('/api/v1/admin/config', () => ({ keys: admin.configView().map(configRowJson) }), {
      detail: { summary: 'Every config key with its value and source', tags: ['admin'], security },
    })
    .patch(
      '/api/v1/admin/config',
      async ({ body }) => {
        const changes = requireObject('body', body);
        if (Object.keys(changes).length === 0) refuse([]);
        // Checked by the port against the stored state it replaces, inside the write: a check
        // against the running config here could pass two changes that are invalid together.
        const result = await admin.patchConfig(changes, 'api');
        if (!result.ok) refuse(result.issues);
        return { changed: result.changed, keys: admin.configView().map(configRowJson) };
      },
      {
        body: t.Unknown({ description: 'an object of dotted tunable keys and their new values' }),
        detail: {
          summary: 'Change runtime tunables, all or nothing, e.g. {"breaker.failure_threshold": 3}',
          tags: ['admin'],
          security,
        },
      },
    )
    .post(
      '/api/v1/admin/breaker/open',
      breakerRoute('open'),
      breakerDetail('Force the circuit open'),
    )
    .post(
      '/api/v1/admin/breaker/close',
      breakerRoute('close'),
      breakerDetail('Force the circuit closed'),
    )
    .post(
      '/api/v1/admin/breaker/reset',
      breakerRoute('reset'),
      breakerDetail('Close the circuit and clear its counters'),
    );
}
