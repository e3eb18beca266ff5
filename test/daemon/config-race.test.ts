/**
 * Runtime config writers that race (issue 13 items 1 and 2) on a running daemon: two admin PATCHes
 * that are each valid but invalid together, sent at the same moment, and `lifeline config set`
 * from another process racing a PATCH. After every round what runs, what is stored and the audit
 * trail agree, the stored overrides keep burst ≥ rate, and exactly one of the pair succeeded, the
 * other refused with the reason. A change to the value a key already has stores nothing. A value
 * of the wrong type is refused naming the value (item 12).
 */
import { Database } from 'bun:sqlite';
import { afterEach, describe, expect, test } from 'bun:test';
import { run, waitFor } from '../support/spawn.ts';
import { type TempDir, tempDir } from '../support/temp.ts';
import { cliCommand, type OpsServer, openReadOnly, startServer } from './harness.ts';

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const BURST = 'limits.burst';
const RATE = 'limits.messages_per_s';
const KEYS = [BURST, RATE] as const;
const DEFAULTS: Record<string, number> = { [BURST]: 40, [RATE]: 20 };
const TOGETHER_INVALID = 'limits.burst (20) must be at least limits.messages_per_s (40)';

async function start(name: string): Promise<OpsServer> {
  const dir: TempDir = tempDir(name);
  cleanups.push(() => dir[Symbol.dispose]());
  const server = await startServer({ dataDir: dir.join('data') });
  cleanups.push(() => server[Symbol.asyncDispose]());
  return server;
}

/** The value and source of each limits key as the daemon runs it. */
async function running(server: OpsServer): Promise<Record<string, [unknown, string]>> {
  const answer = await server.api('GET', '/api/v1/admin/config');
  expect(answer.status).toBe(200);
  const body = (await answer.json()) as {
    keys: Array<{ key: string; value: unknown; source: string }>;
  };
  const view: Record<string, [unknown, string]> = {};
  for (const row of body.keys) if (row.key in DEFAULTS) view[row.key] = [row.value, row.source];
  return view;
}

interface Stored {
  overrides: Map<string, string>;
  audit: Array<{ key: string; old_json: string | null; new_json: string | null }>;
}

function stored(server: OpsServer): Stored {
  const db = openReadOnly(server.dbPath);
  try {
    const rows = db.query('SELECT key, value_json FROM runtime_overrides').all() as Array<{
      key: string;
      value_json: string;
    }>;
    const audit = db
      .query('SELECT key, old_json, new_json FROM runtime_config_audit ORDER BY id')
      .all() as Stored['audit'];
    return { overrides: new Map(rows.map((row) => [row.key, row.value_json])), audit };
  } finally {
    db.close();
  }
}

/** What the stored overrides make of each key (the daemon sets neither in file, env or flags). */
function effectiveOf(state: Stored): Record<string, [unknown, string]> {
  const view: Record<string, [unknown, string]> = {};
  for (const key of KEYS) {
    const json = state.overrides.get(key);
    view[key] = json === undefined ? [DEFAULTS[key], 'default'] : [JSON.parse(json), 'override'];
  }
  return view;
}

/** The audit trail of each key is an unbroken chain ending at the stored value. */
function expectAuditMatches(state: Stored): void {
  for (const key of KEYS) {
    let last: string | null = null;
    for (const entry of state.audit.filter((row) => row.key === key)) {
      expect(entry.old_json).toBe(last);
      last = entry.new_json;
    }
    expect(last).toBe(state.overrides.get(key) ?? null);
  }
}

/** running = stored = audited, and what is stored keeps burst ≥ rate. */
async function expectAgreement(server: OpsServer): Promise<void> {
  const state = stored(server);
  const effective = effectiveOf(state);
  expect(await running(server)).toEqual(effective);
  expectAuditMatches(state);
  expect(effective[BURST]![0] as number).toBeGreaterThanOrEqual(effective[RATE]![0] as number);
}

/** Back to rate 20, burst 40 (from either outcome of a round). */
async function reset(server: OpsServer): Promise<void> {
  const answer = await server.api('PATCH', '/api/v1/admin/config', { [BURST]: 40, [RATE]: 20 });
  expect(answer.status).toBe(200);
}

async function errorMessage(answer: Response): Promise<string> {
  return ((await answer.json()) as { error: { message: string } }).error.message;
}

describe('runtime config writers that race', () => {
  test('two concurrent PATCHes, invalid together: one applies, the other is refused; all agree', async () => {
    const server = await start('lifeline-config-race');
    for (let round = 0; round < 30; round++) {
      await reset(server);
      const lower = { [BURST]: 20 };
      const raise = { [RATE]: 40 };
      const bodies = round % 2 === 0 ? [lower, raise] : [raise, lower];
      const answers = await Promise.all(
        bodies.map((body) => server.api('PATCH', '/api/v1/admin/config', body)),
      );
      const statuses = answers.map((answer) => answer.status).sort();
      expect(statuses).toEqual([200, 400]);
      const refused = answers.find((answer) => answer.status === 400)!;
      expect(await errorMessage(refused)).toContain(TOGETHER_INVALID);
      await expectAgreement(server);
    }
    expect((await server.api('GET', '/api/v1/admin/status')).status).toBe(200);
    expect((await fetch(`${server.baseUrl}/readyz`)).status).toBe(200);
  }, 60_000);

  test('config set from another process racing a PATCH: one applies, the other is refused', async () => {
    const server = await start('lifeline-config-race-cli');
    for (let round = 0; round < 3; round++) {
      await reset(server);
      // Hold SQLite's write lock so both writers have checked what they can before either
      // writes: the CLI and the daemon each wait for the lock, then go one after the other.
      const lock = new Database(server.dbPath, { strict: true });
      lock.run('PRAGMA busy_timeout = 5000');
      lock.run('BEGIN IMMEDIATE');
      const cli = run(
        cliCommand(false, ['config', 'set', BURST, '20', '--data-dir', server.dataDir]),
      );
      const patch = server.api('PATCH', '/api/v1/admin/config', { [RATE]: 40 });
      await Bun.sleep(1500);
      lock.run('ROLLBACK');
      lock.close();
      const [set, answer] = await Promise.all([cli, patch]);
      const cliApplied = set.exitCode === 0;
      const apiApplied = answer.status === 200;
      expect([cliApplied, apiApplied].filter(Boolean)).toHaveLength(1);
      if (cliApplied) expect(await errorMessage(answer)).toContain(TOGETHER_INVALID);
      else expect(set.stderr).toContain(TOGETHER_INVALID);
      // The daemon picks up a row the CLI wrote on its next poll.
      const state = stored(server);
      await waitFor(async () => Bun.deepEquals(await running(server), effectiveOf(state)), 10_000);
      await expectAgreement(server);
    }
    expect((await fetch(`${server.baseUrl}/readyz`)).status).toBe(200);
  }, 60_000);

  test('a change to the value a key already has stores no override and no audit row', async () => {
    const server = await start('lifeline-config-noop');
    const same = await server.api('PATCH', '/api/v1/admin/config', { [BURST]: '40' });
    expect(same.status).toBe(200);
    expect(((await same.json()) as { changed: string[] }).changed).toEqual([]);
    const set = await run(
      cliCommand(false, ['config', 'set', RATE, '20', '--data-dir', server.dataDir]),
    );
    expect(set.exitCode).toBe(0);
    expect(set.stdout).toContain('nothing stored');
    expect(stored(server)).toEqual({ overrides: new Map(), audit: [] });
    expect(await running(server)).toEqual({ [BURST]: [40, 'default'], [RATE]: [20, 'default'] });

    // Mixed: only the key whose value changes is stored and audited.
    const mixed = await server.api('PATCH', '/api/v1/admin/config', { [BURST]: 40, [RATE]: 25 });
    expect(mixed.status).toBe(200);
    expect(((await mixed.json()) as { changed: string[] }).changed).toEqual([RATE]);
    const after = stored(server);
    expect([...after.overrides.keys()]).toEqual([RATE]);
    expect(after.audit).toEqual([{ key: RATE, old_json: null, new_json: '25' }]);
    // Setting an override to the value it already holds audits nothing either.
    expect((await server.api('PATCH', '/api/v1/admin/config', { [RATE]: 25 })).status).toBe(200);
    expect(stored(server).audit).toHaveLength(1);
    expect((await fetch(`${server.baseUrl}/readyz`)).status).toBe(200);
  }, 30_000);

  test('a value of the wrong type is refused showing the value; nothing is stored', async () => {
    const server = await start('lifeline-config-type');
    const word = await server.api('PATCH', '/api/v1/admin/config', { [BURST]: 'lots' });
    expect(word.status).toBe(400);
    expect(await errorMessage(word)).toContain(
      'limits.burst must be an integer from 1 to 100000 (got "lots")',
    );
    const list = await server.api('PATCH', '/api/v1/admin/config', { [RATE]: [5] });
    expect(list.status).toBe(400);
    expect(await errorMessage(list)).toContain('(got [5])');
    expect(stored(server)).toEqual({ overrides: new Map(), audit: [] });
    expect(await running(server)).toEqual({ [BURST]: [40, 'default'], [RATE]: [20, 'default'] });
    expect((await fetch(`${server.baseUrl}/readyz`)).status).toBe(200);
  }, 30_000);
});
