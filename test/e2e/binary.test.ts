/**
 * The compiled binary, copied alone into an empty directory on another path: it must create and
 * migrate a fresh database from its embedded migrations, serve, and exit 0 on SIGTERM.
 */
import { afterEach, describe, expect, test } from 'bun:test';
import { copyFileSync, existsSync } from 'node:fs';
import { binaryPath, childEnv, freePort, run, waitFor } from '../support/spawn.ts';
import { type TempDir, tempDir } from '../support/temp.ts';

let dir: TempDir | undefined;
afterEach(() => dir?.[Symbol.dispose]());

function copyBinary(): { dir: TempDir; bin: string } {
  dir = tempDir('lifeline-e2e');
  const bin = dir.join('lifeline');
  copyFileSync(binaryPath(), bin);
  Bun.spawnSync(['chmod', '+x', bin]);
  return { dir, bin };
}

describe('compiled binary copied alone', () => {
  test('prints its version with commit, build date and Bun version', async () => {
    const { dir, bin } = copyBinary();
    const out = await run([bin, 'version', '--json'], { cwd: dir.path });
    expect(out.exitCode).toBe(0);
    const info = JSON.parse(out.stdout) as Record<string, string>;
    expect(info.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(info.commit).not.toBe('');
    expect(Number.isNaN(Date.parse(info.buildDate ?? ''))).toBe(false);
    expect(info.bunVersion).toBe(Bun.version);
  });

  test('migrates a fresh database from its embedded migrations, then finds nothing to do', async () => {
    const { dir, bin } = copyBinary();
    const first = await run([bin, 'migrate'], { cwd: dir.path });
    expect(first.stderr).toBe('');
    expect(first.exitCode).toBe(0);
    expect(first.stdout).toContain('applied 0000_init');
    expect(existsSync(dir.join('data', 'lifeline.db'))).toBe(true);
    const second = await run([bin, 'migrate'], { cwd: dir.path });
    expect(second.stdout).toContain('is up to date');
    const status = await run([bin, 'migrate', '--status'], { cwd: dir.path });
    expect(status.stdout).not.toContain('pending');
  });

  test('shows the config with sources and redacts secrets', async () => {
    const { dir, bin } = copyBinary();
    const secret = 'a-very-long-secret-value-for-the-e2e-test-0123456789';
    const out = await run([bin, 'config', 'show', '--json'], {
      cwd: dir.path,
      env: { LIFELINE_AUTH_JWT_SECRET: secret, LIFELINE_SERVER_PORT: '9999' },
    });
    expect(out.exitCode).toBe(0);
    expect(out.stdout).not.toContain(secret);
    const rows = JSON.parse(out.stdout) as Array<{ key: string; value: unknown; source: string }>;
    expect(rows.find((row) => row.key === 'server.port')).toMatchObject({
      value: 9999,
      source: 'env',
    });
    expect(rows.find((row) => row.key === 'auth.jwt_secret')).toMatchObject({ value: '********' });
  });

  test('serves /healthz on a free port and exits 0 on SIGTERM', async () => {
    const { dir, bin } = copyBinary();
    const port = freePort();
    const proc = Bun.spawn([bin, 'serve', '--port', String(port)], {
      cwd: dir.path,
      env: childEnv(),
      stdout: 'pipe',
      stderr: 'pipe',
    });
    try {
      await waitFor(async () => {
        const answer = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined);
        return answer?.status === 200;
      });
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
      expect(ready.status).toBe(200);
      proc.kill('SIGTERM');
      expect(await proc.exited).toBe(0);
      const log = await new Response(proc.stdout).text();
      expect(log).toContain('"msg":"listening"');
      expect(log).toContain('"msg":"stopped"');
    } finally {
      proc.kill('SIGKILL');
    }
  });
});
