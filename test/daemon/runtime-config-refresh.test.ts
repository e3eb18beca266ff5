/**
 * The runtime config holder's refresh: a table with no overrides, read right after a load that
 * applied none, changes nothing and loads nothing again; rows appearing later are applied.
 */
import { describe, expect, test } from 'bun:test';
import { type LoadResult, loadConfig } from '../../src/config/load.ts';
import { RuntimeConfig } from '../../src/daemon/runtime-config.ts';
import { silentLogger } from '../../src/lib/log.ts';
import type { RuntimeOverride, Store } from '../../src/storage/store.ts';
import { tempDir } from '../support/temp.ts';

function holder(rows: RuntimeOverride[], initial: LoadResult, cwd: string) {
  const reloads: unknown[] = [];
  const store = { listOverrides: async () => rows } as unknown as Store;
  const runtime = new RuntimeConfig(
    initial,
    store,
    (overrides) => {
      reloads.push(overrides);
      return loadConfig({ env: {}, cwd, overrides });
    },
    silentLogger,
  );
  return { runtime, reloads };
}

function row(key: string, value: unknown): RuntimeOverride {
  return { key, valueJson: JSON.stringify(value), actor: 'test', updatedAtWallMs: 0 };
}

describe('RuntimeConfig.refresh', () => {
  test('no stored overrides after a load without any: nothing is loaded again', async () => {
    using dir = tempDir('runtime');
    const { runtime, reloads } = holder([], loadConfig({ env: {}, cwd: dir.path }), dir.path);
    expect(await runtime.refresh()).toEqual([]);
    expect(reloads).toEqual([]);
  });

  test('an override written later is loaded and applied', async () => {
    using dir = tempDir('runtime');
    const rows: RuntimeOverride[] = [];
    const { runtime, reloads } = holder(rows, loadConfig({ env: {}, cwd: dir.path }), dir.path);
    await runtime.refresh();
    rows.push(row('breaker.failure_threshold', 2));
    expect(await runtime.refresh()).toEqual(['breaker.failure_threshold']);
    expect(runtime.config.breaker.failure_threshold).toBe(2);
    expect(reloads).toHaveLength(1);
  });

  test('a load that applied overrides is checked against the table at once', async () => {
    using dir = tempDir('runtime');
    const overrides = [{ key: 'breaker.failure_threshold', value: 2 }];
    const initial = loadConfig({ env: {}, cwd: dir.path, overrides });
    const { runtime } = holder([], initial, dir.path);
    // The override was removed before the first refresh: the default comes back.
    expect(await runtime.refresh()).toEqual(['breaker.failure_threshold']);
    expect(runtime.config.breaker.failure_threshold).not.toBe(2);
  });
});
