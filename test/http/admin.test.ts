/**
 * The admin routes (docs/design.md#http-api) over a fake AdminPort: the status shape the operator
 * page reads, the config view with secrets redacted, PATCH all or nothing with reasons, breaker
 * actions, the key.
 */
import { describe, expect, test } from 'bun:test';
import { planChanges } from '../../src/config/overrides.ts';
import type { Config } from '../../src/config/schema.ts';
import { showConfig } from '../../src/config/show.ts';
import { flattenConfig, nestValues } from '../../src/config/tree.ts';
import { type AdminPort, adminRoutes, type BreakerAction } from '../../src/http/admin.ts';
import type { AdminStatus } from '../../src/http/status-page.ts';
import { type Harness, startRealtime } from '../support/realtime-harness.ts';

const KEY = 'admin-key-for-tests-0123456789';

class FakeAdmin implements AdminPort {
  readonly actions: BreakerAction[] = [];
  readonly patches: Array<{ changes: Record<string, unknown>; actor: string }> = [];
  state: AdminStatus['breaker']['state'] = 'closed';

  constructor(public config: Config) {}

  async status(): Promise<AdminStatus> {
    return {
      status: 'ready',
      version: '0.1.0',
      uptime_s: 12,
      memory: { backend: 'local', status: this.state === 'open' ? 'write_only' : 'ok' },
      breaker: {
        state: this.state,
        consecutive_failures: 0,
        next_probe_at: null,
        reopen_count: 0,
        last_error: null,
        transitions: [],
      },
      outbox: { pending: 0, dead: 0, delivered: 0 },
      connections: 0,
    };
  }

  async breaker(action: BreakerAction): Promise<void> {
    this.actions.push(action);
    this.state = action === 'open' ? 'open' : 'closed';
  }

  configView() {
    return showConfig(this.config, { sources: {}, locations: {} });
  }

  async patchConfig(changes: Record<string, unknown>, actor: string) {
    // The daemon checks inside its store write; the fake checks against its one config.
    const plan = planChanges(changes, this.config);
    if (!plan.ok) return plan;
    this.patches.push({ changes, actor });
    const values = flattenConfig(this.config);
    for (const { key, value } of plan.writes) values.set(key, value);
    this.config = nestValues(values) as Config;
    return { ok: true as const, changed: plan.writes.map((row) => row.key) };
  }
}

async function startAdmin(key: string | null = KEY) {
  let admin: FakeAdmin | undefined;
  const h = await startRealtime({
    configure: (config) => {
      config.auth.api_key = key ?? undefined;
      config.auth.jwt_secret = 'a-secret-that-must-never-be-shown-0123';
    },
    plugins: (parts) => {
      admin = new FakeAdmin(parts.config);
      return [adminRoutes({ apiKey: () => parts.config.auth.api_key, admin })];
    },
  });
  return { h, admin: admin as FakeAdmin };
}

async function call(h: Harness, method: string, path: string, body?: unknown, key = KEY) {
  const response = await fetch(`${h.httpUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  // biome-ignore lint/suspicious/noExplicitAny: a test reads arbitrary JSON answers.
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

describe('admin', () => {
  test('status answers the page’s shape; a wrong key is 401; no key is 503', async () => {
    const { h } = await startAdmin();
    await using _ = h;
    const ok = await call(h, 'GET', '/api/v1/admin/status');
    expect(ok.status).toBe(200);
    expect(Object.keys(ok.body).sort()).toEqual(
      ['breaker', 'connections', 'memory', 'outbox', 'status', 'uptime_s', 'version'].sort(),
    );
    expect((await call(h, 'GET', '/api/v1/admin/status', undefined, 'wrong')).status).toBe(401);
    const { h: off } = await startAdmin(null);
    await using __ = off;
    const disabled = await call(off, 'GET', '/api/v1/admin/status');
    expect(disabled.status).toBe(503);
  });

  test('GET config lists every key with its source and redacts secrets', async () => {
    const { h } = await startAdmin();
    await using _ = h;
    const answer = await call(h, 'GET', '/api/v1/admin/config');
    expect(answer.status).toBe(200);
    const rows = answer.body.keys as Array<{ key: string; value: unknown; tunable: boolean }>;
    const byKey = new Map(rows.map((row) => [row.key, row]));
    expect(byKey.get('breaker.failure_threshold')).toMatchObject({ value: 5, tunable: true });
    expect(byKey.get('auth.jwt_secret')?.value).toBe('********');
    expect(JSON.stringify(answer.body)).not.toContain('must-never-be-shown');
    expect(JSON.stringify(answer.body)).not.toContain(KEY);
  });

  test('PATCH applies tunables as actor api', async () => {
    const { h, admin } = await startAdmin();
    await using _ = h;
    const answer = await call(h, 'PATCH', '/api/v1/admin/config', {
      'breaker.failure_threshold': 3,
      'limits.burst': '80',
    });
    expect(answer.status).toBe(200);
    expect(answer.body.changed).toEqual(['breaker.failure_threshold', 'limits.burst']);
    expect(admin.patches).toEqual([
      { changes: { 'breaker.failure_threshold': 3, 'limits.burst': '80' }, actor: 'api' },
    ]);
  });

  test('PATCH is all or nothing: a non-tunable, unknown or out-of-range key refuses the lot', async () => {
    const { h, admin } = await startAdmin();
    await using _ = h;
    for (const body of [
      { 'breaker.failure_threshold': 3, 'server.port': 8000 },
      { 'breaker.failure_threshold': 3, 'breaker.nope': 1 },
      { 'breaker.failure_threshold': 0 },
      { 'breaker.failure_threshold': 'many' },
      {},
      [1, 2],
    ]) {
      const answer = await call(h, 'PATCH', '/api/v1/admin/config', body);
      expect([body, answer.status, answer.body.error.code]).toEqual([body, 400, 'bad_request']);
    }
    const refused = await call(h, 'PATCH', '/api/v1/admin/config', { 'server.port': 8000 });
    expect(refused.body.error.message).toContain('server.port is not a runtime tunable');
    expect(admin.patches).toEqual([]);
  });

  test('breaker open, close and reset reach the port and answer the breaker', async () => {
    const { h, admin } = await startAdmin();
    await using _ = h;
    const opened = await call(h, 'POST', '/api/v1/admin/breaker/open');
    expect(opened.status).toBe(200);
    expect(opened.body.state).toBe('open');
    expect((await call(h, 'POST', '/api/v1/admin/breaker/close')).body.state).toBe('closed');
    expect((await call(h, 'POST', '/api/v1/admin/breaker/reset')).status).toBe(200);
    expect((await call(h, 'POST', '/api/v1/admin/breaker/explode')).status).toBe(404);
    expect(admin.actions).toEqual(['open', 'close', 'reset']);
    expect((await call(h, 'POST', '/api/v1/admin/breaker/open', undefined, 'x')).status).toBe(401);
    expect(admin.actions).toHaveLength(3);
  });
});
