/**
 * `lifeline check` against the memory service (issue 6, docs/design.md#preflight,
 * #wrong-api-version, #preflight-open-circuit): one request per check against the pinned version,
 * no fallback; a warning by default, a failure with --strict.
 */
import { afterEach, describe, expect, test } from 'bun:test';
import { type FakeZep, startFakeZep } from '../support/fake-zep.ts';
import { freePort, run, sourceCli } from '../support/spawn.ts';
import { type TempDir, tempDir } from '../support/temp.ts';

interface JsonRow {
  name: string;
  status: 'ok' | 'warn' | 'fail';
  detail: string;
  fix?: string;
}

let dir: TempDir | undefined;
let zep: FakeZep | undefined;
afterEach(async () => {
  dir?.[Symbol.dispose]();
  dir = undefined;
  await zep?.stop();
  zep = undefined;
});

async function memoryRow(env: Record<string, string>, strict: boolean) {
  dir = tempDir('lifeline-check-memory');
  const args = ['check', '--json', '--port', String(freePort()), ...(strict ? ['--strict'] : [])];
  const out = await run([...sourceCli(), ...args], {
    cwd: dir.path,
    env: { LIFELINE_MEMORY_BACKEND: 'zep', ...env },
  });
  const report = JSON.parse(out.stdout) as { results: JsonRow[] };
  return { exitCode: out.exitCode, row: report.results.find((row) => row.name === 'memory') };
}

describe('lifeline check: memory service', () => {
  test('a base_url refusing connections warns, and fails with --strict naming base_url', async () => {
    const env = { LIFELINE_MEMORY_ZEP_BASE_URL: `http://127.0.0.1:${freePort()}` };
    const lenient = await memoryRow(env, false);
    expect(lenient.exitCode).toBe(0);
    expect(lenient.row?.status).toBe('warn');
    const strict = await memoryRow(env, true);
    expect(strict.exitCode).toBe(1);
    expect(strict.row?.status).toBe('fail');
    expect(strict.row?.fix).toContain('memory.zep.base_url');
  });

  test.each([
    ['v2', 'v1' as const],
    ['v1', 'v2-ce' as const],
  ])(
    'pinned %s against a server of the other version fails without trying the other prefix',
    async (pinned, mode) => {
      zep = await startFakeZep({ mode, apiKey: 'zep-key' });
      const { exitCode, row } = await memoryRow(
        {
          LIFELINE_MEMORY_ZEP_BASE_URL: zep.url,
          LIFELINE_MEMORY_ZEP_API_VERSION: pinned,
          LIFELINE_MEMORY_ZEP_API_KEY: 'zep-key',
        },
        true,
      );
      expect(exitCode).toBe(1);
      expect(row?.status).toBe('fail');
      expect(`${row?.detail} ${row?.fix}`).toContain('memory.zep.api_version');
      const other = pinned === 'v1' ? '/api/v2' : '/api/v1';
      expect(zep.requests().filter((request) => request.path.startsWith(other))).toEqual([]);
      expect(zep.requests().filter((request) => request.path.startsWith('/api/')).length).toBe(1);
    },
  );

  test.each([
    ['v1', 'v1' as const],
    ['v2', 'v2-ce' as const],
  ])(
    'pinned v3 against a Zep %s server fails under --strict naming %s, only the v3 probe sent',
    async (speaks, mode) => {
      zep = await startFakeZep({ mode, apiKey: 'zep-key' });
      const { exitCode, row } = await memoryRow(
        {
          LIFELINE_MEMORY_ZEP_BASE_URL: zep.url,
          LIFELINE_MEMORY_ZEP_API_VERSION: 'v3',
          LIFELINE_MEMORY_ZEP_API_KEY: 'zep-key',
        },
        true,
      );
      expect(exitCode).toBe(1);
      expect(row?.status).toBe('fail');
      expect(row?.fix).toContain(`set memory.zep.api_version = "${speaks}"`);
      const api = zep.requests().filter((request) => request.path.startsWith('/api/'));
      expect(api.map((request) => `${request.method} ${request.path}`)).toEqual([
        'GET /api/v2/projects/info',
      ]);
    },
  );

  test('a v3 pin against a v3 server passes with a single authenticated probe', async () => {
    zep = await startFakeZep({ mode: 'v3', apiKey: 'zep-key' });
    const { exitCode, row } = await memoryRow(
      {
        LIFELINE_MEMORY_ZEP_BASE_URL: zep.url,
        LIFELINE_MEMORY_ZEP_API_VERSION: 'v3',
        LIFELINE_MEMORY_ZEP_API_KEY: 'zep-key',
      },
      true,
    );
    expect(exitCode).toBe(0);
    expect(row?.detail).toContain('zep v3');
    expect(zep.requests().map((request) => request.path)).toEqual([
      '/healthz',
      '/api/v2/projects/info',
    ]);
  });

  test('the matching version passes with a single authenticated probe', async () => {
    zep = await startFakeZep({ mode: 'v2-ce', apiKey: 'zep-key' });
    const { exitCode, row } = await memoryRow(
      {
        LIFELINE_MEMORY_ZEP_BASE_URL: zep.url,
        LIFELINE_MEMORY_ZEP_API_VERSION: 'v2',
        LIFELINE_MEMORY_ZEP_API_KEY: 'zep-key',
      },
      true,
    );
    expect(exitCode).toBe(0);
    expect(row?.status).toBe('ok');
  });

  test('a hanging server is given up at memory.timeout_ms', async () => {
    zep = await startFakeZep({ mode: 'v1' });
    await zep.setFault({ kind: 'hang' });
    const { exitCode, row } = await memoryRow(
      { LIFELINE_MEMORY_ZEP_BASE_URL: zep.url, LIFELINE_MEMORY_TIMEOUT_MS: '300' },
      true,
    );
    expect(exitCode).toBe(1);
    expect(row?.status).toBe('fail');
    expect(row?.detail).toContain('within 300 ms');
  });
});
