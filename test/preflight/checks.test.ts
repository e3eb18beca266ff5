import { afterEach, describe, expect, test } from 'bun:test';
import { statfsSync, writeFileSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import type { Check, CheckOutcome } from '../../src/preflight/check.ts';
import {
  configCheck,
  dataDirCheck,
  diskSpaceCheck,
  portCheck,
} from '../../src/preflight/checks.ts';
import { type TempDir, tempDir } from '../support/temp.ts';

const ctx = { strict: false, signal: new AbortController().signal };
const run = (check: Check): Promise<CheckOutcome> => check.run(ctx);

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});
function temp(): TempDir {
  const dir = tempDir('preflight');
  cleanups.push(() => dir[Symbol.dispose]());
  return dir;
}

describe('configCheck', () => {
  test('lists every issue, not just the first', async () => {
    const check = configCheck({
      source: '/etc/lifeline.toml',
      issues: [
        {
          key: 'breaker.cooldwn_s',
          source: 'lifeline.toml:3',
          message: 'unknown key breaker.cooldwn_s',
          fix: 'did you mean breaker.cooldown_s?',
        },
        {
          key: 'server.port',
          source: 'env LIFELINE_SERVER_PORT',
          message: 'server.port must be at most 65535',
        },
        'memory.timeout_ms: expected an integer',
      ],
    });
    expect(check.name).toBe('config');
    const outcome = await run(check);
    expect(outcome).toMatchObject({ status: 'fail', detail: '3 problems in /etc/lifeline.toml' });
    expect(outcome.items).toEqual([
      'lifeline.toml:3: unknown key breaker.cooldwn_s (did you mean breaker.cooldown_s?)',
      'env LIFELINE_SERVER_PORT: server.port must be at most 65535',
      'memory.timeout_ms: expected an integer',
    ]);
    expect(outcome.fix).toContain('correct each key listed in /etc/lifeline.toml');
  });

  test('warns when every issue is only a warning', async () => {
    const issues = [{ key: 'a.b', message: 'a.b is deprecated', severity: 'warn' as const }];
    const outcome = await run(configCheck({ issues }));
    expect(outcome).toMatchObject({ status: 'warn', items: ['a.b is deprecated'] });
    expect(outcome.fix).toContain('correct each key');
  });

  test('passes when there are no issues', async () => {
    expect(await run(configCheck({ issues: [] }))).toMatchObject({ status: 'ok' });
  });
});

describe('dataDirCheck', () => {
  test('fails when the data dir path runs through a regular file', async () => {
    const dir = temp();
    const file = dir.join('not-a-dir');
    writeFileSync(file, 'x');
    const check = dataDirCheck({ dataDir: `${file}/data` });
    expect(check.name).toBe('data-dir');
    const outcome = await run(check);
    expect(outcome.status).toBe('fail');
    expect(outcome.detail).toContain(`${file} is a regular file`);
    expect(outcome.fix).toContain('set server.data_dir');
  });

  test('fails when the data dir itself is a regular file', async () => {
    const dir = temp();
    const file = dir.join('data');
    writeFileSync(file, 'x');
    const outcome = await run(dataDirCheck({ dataDir: file }));
    expect(outcome).toMatchObject({
      status: 'fail',
      detail: `${file} exists but is not a directory`,
    });
    expect(outcome.fix).toContain('set server.data_dir');
  });

  test('creates a missing data dir with mode 0700 and leaves no probe file behind', async () => {
    const dir = temp();
    const target = dir.join('a', 'b', 'data');
    const outcome = await run(dataDirCheck({ dataDir: target }));
    expect(outcome).toEqual({ status: 'ok', detail: `${target} is writable (created)` });
    expect((await stat(target)).mode & 0o777).toBe(0o700);
    expect(await readdir(target)).toEqual([]);
  });

  test('passes for an existing writable directory', async () => {
    const dir = temp();
    expect(await run(dataDirCheck({ dataDir: dir.path }))).toEqual({
      status: 'ok',
      detail: `${dir.path} is writable`,
    });
  });
});

describe('portCheck', () => {
  test('fails naming host:port when another socket holds the port', async () => {
    const holder = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data: () => {} } });
    cleanups.push(() => holder.stop(true));
    const check = portCheck({ host: '127.0.0.1', port: holder.port });
    expect(check.name).toBe('port');
    const outcome = await run(check);
    expect(outcome).toMatchObject({
      status: 'fail',
      detail: `127.0.0.1:${holder.port} is already in use`,
    });
    expect(outcome.fix).toContain('set server.port');
  });

  test('fails when a server that shares its port (reusePort) holds it', async () => {
    const server = Bun.serve({
      hostname: '127.0.0.1',
      port: 0,
      reusePort: true,
      fetch: () => new Response('x'),
    });
    cleanups.push(() => server.stop(true));
    const outcome = await run(portCheck({ host: '127.0.0.1', port: server.port ?? 0 }));
    expect(outcome.status).toBe('fail');
  });

  test('passes for a free port and releases it', async () => {
    const holder = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data: () => {} } });
    const port = holder.port;
    holder.stop(true);
    expect(await run(portCheck({ host: '127.0.0.1', port }))).toEqual({
      status: 'ok',
      detail: `127.0.0.1:${port} is free`,
    });
    const again = Bun.listen({ hostname: '127.0.0.1', port, socket: { data: () => {} } });
    again.stop(true);
  });

  test('fails for a host that is not an address of this machine', async () => {
    const outcome = await run(portCheck({ host: '192.0.2.1', port: 7400 }));
    expect(outcome.status).toBe('fail');
    expect(outcome.fix).toContain('server.host');
  });
});

describe('diskSpaceCheck', () => {
  test('fails when free space is below the floor', async () => {
    const dir = temp();
    const check = diskSpaceCheck({ dataDir: dir.path, minFreeDiskMb: 1024 ** 4 });
    expect(check.name).toBe('disk-space');
    const outcome = await run(check);
    expect(outcome.status).toBe('fail');
    expect(outcome.detail).toContain(`the floor is ${1024 ** 4} MB`);
    expect(outcome.fix).toContain('free space on the filesystem');
  });

  test('warns when free space is under twice the floor', async () => {
    const dir = temp();
    const info = statfsSync(dir.path);
    const freeMb = Math.floor((info.bavail * info.bsize) / 1024 / 1024);
    const outcome = await run(diskSpaceCheck({ dataDir: dir.path, minFreeDiskMb: freeMb - 1 }));
    expect(outcome.status).toBe('warn');
    expect(outcome.fix).toContain('free space');
  });

  test('measures the nearest existing ancestor of a data dir not yet created', async () => {
    const dir = temp();
    const outcome = await run(diskSpaceCheck({ dataDir: dir.join('x', 'y'), minFreeDiskMb: 0 }));
    expect(outcome).toMatchObject({ status: 'ok' });
    expect(outcome.detail).toContain(`free at ${dir.path}`);
  });
});
