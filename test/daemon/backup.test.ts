/**
 * `lifeline backup FILE` while the compiled binary serves under write load (issue 7,
 * docs/design.md#epochs): writers keep posting messages through the HTTP API during the backup; the
 * copy opens, passes `PRAGMA integrity_check`, has a new epoch, and holds every message
 * acknowledged before the backup started. No write fails because of the backup.
 */
import { afterEach, describe, expect, test } from 'bun:test';
import { existsSync } from 'node:fs';
import { run, waitFor } from '../support/spawn.ts';
import { type TempDir, tempDir } from '../support/temp.ts';
import {
  cliCommand,
  integrityCheck,
  type OpsServer,
  openReadOnly,
  startServer,
} from './harness.ts';

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const WRITERS = 4;
const WARM_UP_MESSAGES = 200;

/** Writers that post messages until stopped, keeping every acknowledged id and every failure. */
function writeLoad(server: OpsServer) {
  const acked: string[] = [];
  const failures: string[] = [];
  let running = true;
  const writer = async (n: number) => {
    for (let i = 0; running; i++) {
      const id = crypto.randomUUID();
      const answer = await server.api('POST', `/api/v1/threads/t${n}/messages`, {
        user_id: `u${n}`,
        role: 'user',
        content: `load ${n}/${i} ${'x'.repeat(200)}`,
        id,
      });
      if (answer.status === 201) acked.push(id);
      else failures.push(`${answer.status} ${await answer.text()}`);
    }
  };
  const done = Promise.all(Array.from({ length: WRITERS }, (_, n) => writer(n)));
  return {
    acked,
    failures,
    stop: async () => {
      running = false;
      await done;
    },
  };
}

function readCopy(path: string): { epoch: string; ids: Set<string> } {
  const db = openReadOnly(path);
  try {
    const epoch = (
      db.query("SELECT value FROM meta WHERE key = 'epoch'").get() as { value: string }
    ).value;
    const rows = db.query('SELECT id FROM messages').all() as Array<{ id: string }>;
    return { epoch, ids: new Set(rows.map((row) => row.id)) };
  } finally {
    db.close();
  }
}

describe('lifeline backup under write load', () => {
  test('the copy is sound, has a new epoch and every message acked before it started', async () => {
    const dir: TempDir = tempDir('lifeline-ops-backup');
    cleanups.push(() => dir[Symbol.dispose]());
    const server = await startServer({ dataDir: dir.join('data'), binary: true });
    cleanups.push(() => server[Symbol.asyncDispose]());
    const load = writeLoad(server);
    cleanups.push(() => load.stop());
    // Wait for acks, not time: enough rows that the copy has something to carry.
    await waitFor(() => load.acked.length >= WARM_UP_MESSAGES || load.failures.length > 0);

    const before = [...load.acked];
    const target = dir.join('backup', 'copy.db');
    const backup = await run(cliCommand(true, ['backup', target, '--data-dir', server.dataDir]));
    const ackedDuring = load.acked.length - before.length;
    await load.stop();

    expect(backup.stderr).toBe('');
    expect(backup.exitCode).toBe(0);
    expect(backup.stdout).toContain('backup written to');
    expect(load.failures).toEqual([]);
    // The backup really ran under load: writes were acknowledged while it ran.
    expect(ackedDuring).toBeGreaterThan(0);

    expect(existsSync(target)).toBe(true);
    expect(integrityCheck(target)).toBe('ok');
    const copy = readCopy(target);
    const source = readCopy(server.dbPath);
    expect(copy.epoch).toMatch(/^[0-9a-f]{32}$/);
    expect(copy.epoch).not.toBe(source.epoch);
    const missing = before.filter((id) => !copy.ids.has(id));
    expect(missing).toEqual([]);
    // Nothing in the copy that the source does not have.
    for (const id of copy.ids) expect(source.ids.has(id)).toBe(true);

    // The daemon kept serving: still ready, and a second backup to the same file is refused.
    expect((await fetch(`${server.baseUrl}/readyz`)).status).toBe(200);
    const again = await run(cliCommand(true, ['backup', target, '--data-dir', server.dataDir]));
    expect(again.exitCode).not.toBe(0);
    expect(again.stderr).toContain('exists');
    process.stderr.write(
      `backup: ${before.length} acked before, ${ackedDuring} during, copy holds ${copy.ids.size}\n`,
    );
  }, 60_000);
});
