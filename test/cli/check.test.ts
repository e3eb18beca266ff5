/**
 * `lifeline check` and the gate before `serve` (issue 6): each failure induced for real (root-proof
 * causes), asserting the exit code, the failing check's name and its fix line.
 */
import { afterEach, describe, expect, test } from 'bun:test';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { binaryPath, childEnv, freePort, run, sourceCli } from '../support/spawn.ts';
import { type TempDir, tempDir } from '../support/temp.ts';

interface JsonRow {
  name: string;
  status: 'ok' | 'warn' | 'fail';
  detail: string;
  fix?: string;
}

let dir: TempDir | undefined;
afterEach(() => {
  dir?.[Symbol.dispose]();
  dir = undefined;
});

async function check(args: string[], env: Record<string, string> = {}) {
  dir ??= tempDir('lifeline-check');
  const out = await run(
    [...sourceCli(), 'check', '--json', '--port', String(freePort()), ...args],
    {
      cwd: dir.path,
      env,
    },
  );
  const report = JSON.parse(out.stdout) as { ok: boolean; results: JsonRow[] };
  const failed = report.results.filter((row) => row.status === 'fail');
  return { exitCode: out.exitCode, report, failed };
}

describe('lifeline check', () => {
  test('passes on a fresh directory with every check reported', async () => {
    const { exitCode, report } = await check([]);
    expect(exitCode).toBe(0);
    expect(report.results.map((row) => row.name)).toEqual([
      'config',
      'auth-key',
      'data-dir',
      'database',
      'migrations',
      'port',
      'disk-space',
      'memory',
      'assets',
    ]);
  });

  test('fails when the data dir path runs through a regular file', async () => {
    dir = tempDir('lifeline-check');
    writeFileSync(dir.join('file'), 'x');
    const { exitCode, failed } = await check(['--data-dir', dir.join('file', 'data')]);
    expect(exitCode).toBe(1);
    expect(failed[0]?.name).toBe('data-dir');
    expect(failed[0]?.fix).toBeTruthy();
  });

  test('fails on a database file filled with garbage and says to restore a backup', async () => {
    dir = tempDir('lifeline-check');
    mkdirSync(dir.join('data'));
    writeFileSync(dir.join('data', 'lifeline.db'), Buffer.alloc(8192, 0x5a));
    const { exitCode, failed } = await check([]);
    expect(exitCode).toBe(1);
    expect(failed.map((row) => row.name)).toContain('database');
    expect(failed.find((row) => row.name === 'database')?.fix).toContain('backup');
  });

  test('fails on a database migrated by a newer binary', async () => {
    dir = tempDir('lifeline-check');
    expect((await run([...sourceCli(), 'migrate'], { cwd: dir.path })).exitCode).toBe(0);
    const { Database } = await import('bun:sqlite');
    const db = new Database(dir.join('data', 'lifeline.db'));
    db.run('INSERT INTO __drizzle_migrations (hash, created_at) VALUES (?, ?)', [
      'from-the-future',
      Date.now() + 86_400_000,
    ]);
    db.close();
    const { exitCode, failed } = await check([]);
    expect(exitCode).toBe(1);
    expect(failed[0]?.name).toBe('migrations');
    expect(failed[0]?.fix).toContain('newer lifeline');
  });

  test('fails when the port is already bound by another socket', async () => {
    dir = tempDir('lifeline-check');
    const holder = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } });
    try {
      const out = await run([...sourceCli(), 'check', '--json', '--port', String(holder.port)], {
        cwd: dir.path,
      });
      const report = JSON.parse(out.stdout) as { results: JsonRow[] };
      expect(out.exitCode).toBe(1);
      const port = report.results.find((row) => row.name === 'port');
      expect(port?.status).toBe('fail');
      expect(port?.detail).toContain(String(holder.port));
    } finally {
      holder.stop(true);
    }
  });

  test('reports a typo, a wrong type and an out-of-range value at once', async () => {
    dir = tempDir('lifeline-check');
    writeFileSync(
      dir.join('lifeline.toml'),
      '[breaker]\ncooldwn_s = 5\nfailure_threshold = "five"\n\n[outbox]\nbatch_size = 5000\n',
    );
    const { exitCode, report } = await check([]);
    expect(exitCode).toBe(1);
    const config = report.results.find((row) => row.name === 'config') as JsonRow & {
      items?: string[];
    };
    expect(config.status).toBe('fail');
    const text = (config.items ?? []).join('\n');
    expect(text).toContain('breaker.cooldown_s');
    expect(text).toContain('breaker.failure_threshold');
    expect(text).toContain('outbox.batch_size');
    expect(text).toContain('lifeline.toml:');
  });

  test('fails on a JWT public key that is not PEM', async () => {
    const { exitCode, failed } = await check([], {
      LIFELINE_AUTH_JWT_PUBLIC_KEY: 'not a key at all',
    });
    expect(exitCode).toBe(1);
    expect(failed.map((row) => row.name)).toContain('auth-key');
  });

  test('fails on an HS256 secret shorter than 32 bytes', async () => {
    const { exitCode, report } = await check([], { LIFELINE_AUTH_JWT_SECRET: 'short-secret' });
    expect(exitCode).toBe(1);
    const failedNames = report.results
      .filter((row) => row.status === 'fail')
      .map((row) => row.name);
    expect(failedNames.some((name) => name === 'config' || name === 'auth-key')).toBe(true);
  });
});

describe('lifeline serve with a failing check', () => {
  test('exits 1 with the table on stderr and never binds the port', async () => {
    using work = tempDir('lifeline-serve');
    const bin = work.join('lifeline');
    copyFileSync(binaryPath(), bin);
    writeFileSync(work.join('file'), 'x');
    const port = freePort();
    const proc = Bun.spawn(
      [bin, 'serve', '--port', String(port), '--data-dir', work.join('file', 'd')],
      {
        cwd: work.path,
        env: childEnv(),
        stdout: 'pipe',
        stderr: 'pipe',
      },
    );
    let connected = false;
    const probe = (async () => {
      while (proc.exitCode === null) {
        const answer = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined);
        if (answer) connected = true;
        await Bun.sleep(2);
      }
    })();
    const exitCode = await proc.exited;
    await probe;
    expect(exitCode).toBe(1);
    expect(connected).toBe(false);
    const stderr = await new Response(proc.stderr).text();
    expect(stderr).toContain('data-dir');
    expect(stderr).toMatch(/FAIL/);
  });
});
