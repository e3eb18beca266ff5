/**
 * The database holds the development signing key (issue 13 item 11), so whatever the umask the
 * daemon creates its data dir 0700 and keeps lifeline.db, -wal and -shm 0600; a data dir that
 * already exists is left as it is and preflight warns when it is open to others; a database file
 * an older version left 0644 is tightened on open; a backup copy is 0600 too.
 */
import { afterEach, describe, expect, test } from 'bun:test';
import { chmodSync, mkdirSync, statSync } from 'node:fs';
import { run } from '../support/spawn.ts';
import { type TempDir, tempDir } from '../support/temp.ts';
import { cliCommand, type OpsServer, startServer } from './harness.ts';

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function modeOf(path: string): number {
  return statSync(path).mode & 0o777;
}

/** Starts the daemon (and runs `command`) with the given umask, inherited by the child. */
async function withUmask<T>(mask: number, command: () => Promise<T>): Promise<T> {
  const previous = process.umask(mask);
  try {
    return await command();
  } finally {
    process.umask(previous);
  }
}

async function start(dataDir: string, mask: number): Promise<OpsServer> {
  const server = await withUmask(mask, () => startServer({ dataDir }));
  cleanups.push(() => server[Symbol.asyncDispose]());
  return server;
}

function expectPrivateDatabase(server: OpsServer): void {
  for (const suffix of ['', '-wal', '-shm']) {
    expect({ file: `lifeline.db${suffix}`, mode: modeOf(`${server.dbPath}${suffix}`) }).toEqual({
      file: `lifeline.db${suffix}`,
      mode: 0o600,
    });
  }
}

function scratch(name: string): TempDir {
  const dir = tempDir(name);
  cleanups.push(() => dir[Symbol.dispose]());
  return dir;
}

describe.each([
  { name: '022', mask: 0o022 },
  { name: '000', mask: 0o000 },
])('file modes under umask $name', ({ mask }) => {
  test('a new data dir is 0700 and the database files are 0600', async () => {
    const dir = scratch('lifeline-modes-new');
    const server = await start(dir.join('data'), mask);
    // A write, so the WAL has content.
    const put = await server.api('PUT', '/api/v1/users/u1/preferences', { theme: 'dark' });
    expect(put.status).toBe(200);
    expect(modeOf(server.dataDir)).toBe(0o700);
    expectPrivateDatabase(server);

    const target = dir.join('backups', 'copy.db');
    const backup = await withUmask(mask, () =>
      run(cliCommand(false, ['backup', target, '--data-dir', server.dataDir])),
    );
    expect(backup.exitCode).toBe(0);
    expect(modeOf(target)).toBe(0o600);
    expect((await fetch(`${server.baseUrl}/readyz`)).status).toBe(200);
  }, 30_000);

  test('an existing wide data dir is kept, warned about, and the files are still 0600', async () => {
    const dir = scratch('lifeline-modes-existing');
    const dataDir = dir.join('data');
    mkdirSync(dataDir);
    chmodSync(dataDir, 0o755);
    const server = await start(dataDir, mask);
    expectPrivateDatabase(server);
    expect(modeOf(dataDir)).toBe(0o755);
    const warning = server
      .logLines()
      .find((line) => String(line.msg).startsWith('preflight: data-dir:'));
    expect(warning?.msg).toContain('its mode is 0755');
    expect(warning?.fix).toBe(`chmod 700 ${dataDir}`);

    // A database an older version left 0644 is tightened when it is opened again.
    expect(await server.stop()).toBe(0);
    chmodSync(server.dbPath, 0o644);
    const again = await start(dataDir, mask);
    expectPrivateDatabase(again);
    expect((await again.api('GET', '/api/v1/admin/status')).status).toBe(200);
  }, 30_000);
});
