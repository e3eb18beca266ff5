/**
 * Live runtime configuration on a running daemon (issue 7): lowering `breaker.failure_threshold`
 * through `PATCH /api/v1/admin/config` makes the next failures open the circuit at the new
 * threshold; the change is audited; `lifeline config set` from another process is picked up live;
 * a restart keeps the value; keys that are not tunable are refused with the reason.
 */
import { afterEach, describe, expect, test } from 'bun:test';
import { type FakeZep, startFakeZep } from '../support/fake-zep.ts';
import { run, waitFor } from '../support/spawn.ts';
import { type TempDir, tempDir } from '../support/temp.ts';
import { cliCommand, type OpsServer, openReadOnly, startServer } from './harness.ts';

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const THRESHOLD = 'breaker.failure_threshold';

interface ConfigRow {
  key: string;
  value: unknown;
  source: string;
  tunable: boolean;
}

async function configRow(server: OpsServer, key: string): Promise<ConfigRow | undefined> {
  const answer = await server.api('GET', '/api/v1/admin/config');
  expect(answer.status).toBe(200);
  const body = (await answer.json()) as { keys: ConfigRow[] };
  return body.keys.find((row) => row.key === key);
}

async function breaker(
  server: OpsServer,
): Promise<{ state: string; consecutive_failures: number }> {
  const answer = await server.api('GET', '/api/v1/admin/status');
  expect(answer.status).toBe(200);
  return ((await answer.json()) as { breaker: { state: string; consecutive_failures: number } })
    .breaker;
}

/** One memory search through the HTTP API: one call to the (failing) service while closed. */
async function search(server: OpsServer): Promise<{ degraded: boolean }> {
  const answer = await server.api('GET', '/api/v1/threads/t1/memory?query=cats');
  expect(answer.status).toBe(200);
  return (await answer.json()) as { degraded: boolean };
}

/** Fails searches one at a time; returns the number of failures after which the circuit opened. */
async function failuresToOpen(server: OpsServer, max: number): Promise<number> {
  for (let failures = 1; failures <= max; failures++) {
    await search(server);
    const state = await breaker(server);
    if (state.state === 'open') return failures;
    expect(state).toMatchObject({ state: 'closed', consecutive_failures: failures });
  }
  return Number.POSITIVE_INFINITY;
}

async function start(dataDir: string, zep: FakeZep): Promise<OpsServer> {
  const server = await startServer({
    dataDir,
    env: {
      LIFELINE_MEMORY_BACKEND: 'zep',
      LIFELINE_MEMORY_ZEP_BASE_URL: zep.url,
      // No probe during the test: the circuit stays open once opened.
      LIFELINE_BREAKER_COOLDOWN_S: '3600',
      LIFELINE_BREAKER_COOLDOWN_MAX_S: '3600',
    },
  });
  cleanups.push(() => server[Symbol.asyncDispose]());
  return server;
}

describe('runtime config on a running daemon', () => {
  test('PATCH lowers the threshold live, audited; config set is picked up live; a restart keeps it', async () => {
    const dir: TempDir = tempDir('lifeline-ops-runtime');
    cleanups.push(() => dir[Symbol.dispose]());
    const zep = await startFakeZep({ mode: 'v1' });
    cleanups.push(() => zep.stop());
    const server = await start(dir.join('data'), zep);
    // A thread owned by u1 with nothing in the outbox: only our searches reach the service.
    const created = await server.api('PUT', '/api/v1/users/u1/threads/t1/personalization', {
      tone: 'dry',
    });
    expect(created.status).toBe(200);
    await zep.setFault({ kind: 'status', status: 500 });

    expect(await configRow(server, THRESHOLD)).toMatchObject({ value: 5, source: 'default' });
    const patched = await server.api('PATCH', '/api/v1/admin/config', { [THRESHOLD]: 2 });
    expect(patched.status).toBe(200);
    expect(((await patched.json()) as { changed: string[] }).changed).toEqual([THRESHOLD]);
    expect(await configRow(server, THRESHOLD)).toMatchObject({ value: 2, source: 'override' });
    expect(await failuresToOpen(server, 5)).toBe(2);
    expect(await search(server)).toEqual(expect.objectContaining({ degraded: true }));
    expect((await server.api('GET', '/readyz')).status).toBe(200);
    const ready = (await (await fetch(`${server.baseUrl}/readyz`)).json()) as {
      breaker: { state: string };
    };
    expect(ready.breaker.state).toBe('open');

    // `lifeline config set` writes the row from another process; the daemon polls every second.
    const set = await run(
      cliCommand(false, ['config', 'set', THRESHOLD, '3', '--data-dir', server.dataDir]),
    );
    expect(set.exitCode).toBe(0);
    await waitFor(async () => (await configRow(server, THRESHOLD))?.value === 3, 10_000);
    expect((await server.api('POST', '/api/v1/admin/breaker/reset')).status).toBe(200);
    expect(await failuresToOpen(server, 5)).toBe(3);

    const db = openReadOnly(server.dbPath);
    const audit = db
      .query('SELECT key, old_json, new_json, actor FROM runtime_config_audit ORDER BY id')
      .all() as Array<{ key: string; old_json: string | null; new_json: string; actor: string }>;
    db.close();
    expect(audit).toHaveLength(2);
    expect(audit[0]).toMatchObject({ key: THRESHOLD, old_json: null, new_json: '2', actor: 'api' });
    expect(audit[1]).toMatchObject({ key: THRESHOLD, old_json: '2', new_json: '3' });
    expect(audit[1]?.actor).toStartWith('cli');

    expect(await server.stop()).toBe(0);
    const again = await start(dir.join('data'), zep);
    expect(await configRow(again, THRESHOLD)).toMatchObject({ value: 3, source: 'override' });
    expect((await again.api('POST', '/api/v1/admin/breaker/reset')).status).toBe(200);
    expect(await failuresToOpen(again, 5)).toBe(3);
  }, 30_000);

  test('refuses keys that are not tunable, and unknown keys, with the reason and no change', async () => {
    const dir: TempDir = tempDir('lifeline-ops-runtime-refuse');
    cleanups.push(() => dir[Symbol.dispose]());
    const server = await startServer({ dataDir: dir.join('data') });
    cleanups.push(() => server[Symbol.asyncDispose]());

    const port = await server.api('PATCH', '/api/v1/admin/config', { 'server.port': 9000 });
    expect(port.status).toBe(400);
    const portBody = (await port.json()) as { error: { code: string; message: string } };
    expect(portBody.error.code).toBe('bad_request');
    expect(portBody.error.message).toContain('server.port is not a runtime tunable');
    expect(portBody.error.message).toContain('restart');

    // All or nothing: a tunable key next to a refused one is not applied either.
    const mixed = await server.api('PATCH', '/api/v1/admin/config', {
      [THRESHOLD]: 2,
      'auth.jwt_secret': 'x'.repeat(40),
    });
    expect(mixed.status).toBe(400);
    expect(await configRow(server, THRESHOLD)).toMatchObject({ value: 5, source: 'default' });

    const typo = await server.api('PATCH', '/api/v1/admin/config', { 'breaker.cooldown': 5 });
    expect(typo.status).toBe(400);
    const typoMessage = ((await typo.json()) as { error: { message: string } }).error.message;
    expect(typoMessage).toContain('unknown config key');
    expect(typoMessage).toContain('did you mean breaker.cooldown_s?');
    const range = await server.api('PATCH', '/api/v1/admin/config', { [THRESHOLD]: 0 });
    expect(range.status).toBe(400);

    const cli = await run(
      cliCommand(false, ['config', 'set', 'server.port', '9000', '--data-dir', server.dataDir]),
    );
    expect(cli.exitCode).not.toBe(0);
    expect(cli.stderr).toContain('not a runtime tunable');

    const db = openReadOnly(server.dbPath);
    const rows = db.query('SELECT count(*) AS n FROM runtime_config_audit').get() as { n: number };
    db.close();
    expect(rows.n).toBe(0);
  }, 30_000);
});
