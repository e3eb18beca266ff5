/**
 * `lifeline check` on a data dir whose file system is full (issue 13 item 12): the migrations row
 * says to free space, like the database row, not to restore a backup (nothing is wrong with the
 * file). The full file system is real: a 1 MB tmpfs mounted in a user namespace and filled up.
 * Skips where unprivileged user namespaces are not available.
 */
import { afterEach, describe, expect, test } from 'bun:test';
import { mkdirSync } from 'node:fs';
import { childEnv, freePort, run, sourceCli } from '../support/spawn.ts';
import { type TempDir, tempDir } from '../support/temp.ts';

const SECRET = 'disk-full-test-secret-0123456789abcdef-0123';
const namespaces =
  Bun.spawnSync(['unshare', '-rm', 'true'], { stdout: 'ignore', stderr: 'ignore' }).exitCode === 0;

let dir: TempDir | undefined;
afterEach(() => {
  dir?.[Symbol.dispose]();
  dir = undefined;
});

/** Quotes one argument for sh. */
const sh = (text: string) => `'${text.replaceAll("'", `'\\''`)}'`;

describe.if(namespaces)('lifeline check on a full disk', () => {
  test('the migrations fix says to free space, and the database is left as it was', async () => {
    dir = tempDir('lifeline-disk-full');
    const seed = dir.join('seed');
    const mount = dir.join('full');
    mkdirSync(mount);
    const env = { LIFELINE_AUTH_JWT_SECRET: SECRET };
    const migrated = await run([...sourceCli(), 'migrate', '--data-dir', seed], { env });
    expect(migrated.exitCode).toBe(0);

    const cli = [...sourceCli(), 'check', '--json', '--port', String(freePort())];
    const script = [
      `mount -t tmpfs -o size=1m tmpfs ${sh(mount)}`,
      `cp ${sh(`${seed}/lifeline.db`)} ${sh(mount)}`,
      `dd if=/dev/zero of=${sh(`${mount}/fill`)} bs=4k 2>/dev/null; true`,
      `${cli.map(sh).join(' ')} --data-dir ${sh(mount)}; echo "exit=$?" >&2`,
      `cmp ${sh(`${seed}/lifeline.db`)} ${sh(`${mount}/lifeline.db`)} && echo 'database unchanged' >&2`,
    ].join(' && ');
    const proc = Bun.spawn(['unshare', '-rm', 'sh', '-c', script], {
      env: childEnv(env),
      stdout: 'pipe',
      stderr: 'pipe',
    });
    const [stdout, stderr] = await Promise.all([
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
    ]);
    await proc.exited;
    expect(stderr).toContain('exit=1');
    const report = JSON.parse(stdout) as {
      results: Array<{ name: string; status: string; detail: string; fix?: string }>;
    };
    const migrations = report.results.find((row) => row.name === 'migrations');
    expect(migrations).toMatchObject({ status: 'fail' });
    expect(migrations?.detail).toContain('cannot read migrations');
    expect(migrations?.fix).toContain('free disk space');
    expect(migrations?.fix).not.toContain('restore');
    // The check deleted and created nothing: only the database and the filler are there.
    expect(stderr).toContain('database unchanged');
  }, 30_000);
});
