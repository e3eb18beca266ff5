import { describe, expect, test } from 'bun:test';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.ts';
import { tempDir } from '../support/temp.ts';
import { loadPlain, loadToml } from './helpers.ts';

const FIXTURES = join(import.meta.dir, 'fixtures');

type Layer = 'file' | 'env' | 'flag' | 'override';

/** Loads breaker.cooldown_s set by the given layers: file 40, env 50, flag 60, override 70. */
function cooldownFrom(layers: Layer[]) {
  using dir = tempDir('lifeline-precedence');
  const path = dir.join('lifeline.toml');
  writeFileSync(path, layers.includes('file') ? '[breaker]\ncooldown_s = 40\n' : '');
  return loadConfig({
    cwd: dir.path,
    isTTY: false,
    configPath: path,
    env: layers.includes('env') ? { LIFELINE_BREAKER_COOLDOWN_S: '50' } : {},
    flags: layers.includes('flag') ? { 'breaker.cooldown_s': '60' } : {},
    overrides: layers.includes('override') ? [{ key: 'breaker.cooldown_s', value: 70 }] : [],
  });
}

describe('loadConfig precedence', () => {
  test.each([
    { layers: [] as Layer[], value: 30, source: 'default' },
    { layers: ['file'] as Layer[], value: 40, source: 'file' },
    { layers: ['file', 'env'] as Layer[], value: 50, source: 'env' },
    { layers: ['env'] as Layer[], value: 50, source: 'env' },
    { layers: ['file', 'env', 'flag'] as Layer[], value: 60, source: 'flag' },
    { layers: ['flag'] as Layer[], value: 60, source: 'flag' },
    { layers: ['file', 'env', 'flag', 'override'] as Layer[], value: 70, source: 'override' },
    { layers: ['override'] as Layer[], value: 70, source: 'override' },
  ])('$layers gives $value from $source', ({ layers, value, source }) => {
    const result = cooldownFrom(layers);
    expect(result.issues).toEqual([]);
    expect(result.config?.breaker.cooldown_s).toBe(value);
    expect(result.meta.sources['breaker.cooldown_s']).toBe(source as 'default');
  });

  test('records the file line, env var and flag each value came from', () => {
    const result = loadToml('[server]\nhost = "0.0.0.0"\n\n[log]\nlevel = "warn"\n', {
      env: { LIFELINE_LIMITS_BURST: '80' },
      flags: { 'server.port': '7500' },
    });
    expect(result.meta.locations['log.level']).toBe(`${result.path}:5`);
    expect(result.meta.locations['limits.burst']).toBe('env LIFELINE_LIMITS_BURST');
    expect(result.meta.locations['server.port']).toBe('flag --port');
    expect(result.meta.locations['server.host']).toBe(`${result.path}:2`);
    expect(result.meta.file).toBe(result.path);
  });

  test('loads a file that sets every section', () => {
    const result = loadConfig({ env: {}, isTTY: false, configPath: join(FIXTURES, 'full.toml') });
    expect(result.issues).toEqual([]);
    expect(result.config?.memory.zep).toEqual({
      base_url: 'https://zep.example.com',
      api_version: 'v2',
      max_message_chars: 2500,
    });
    expect(result.config?.server.allowed_origins).toEqual(['https://chat.example.com']);
    expect(result.config?.breaker.backoff).toBe(1.5);
    expect(result.meta.sources['server.port']).toBe('file');
  });
});

describe('loadConfig defaults', () => {
  test('uses the built-in defaults with no file, env or flags', () => {
    const { config, issues } = loadPlain();
    expect(issues).toEqual([]);
    expect(config?.server).toEqual({
      host: '127.0.0.1',
      port: 7400,
      data_dir: './data',
      allowed_origins: [],
      public_origins: [],
      max_payload_bytes: 65536,
      idle_timeout_s: 120,
    });
    expect(config?.auth.jwt_secret).toBeUndefined();
    expect(config?.storage.postgres).toEqual({});
  });

  test('takes data_dir from the first entry of STATE_DIRECTORY', () => {
    const { config, meta } = loadPlain({
      env: { STATE_DIRECTORY: '/var/lib/lifeline:/var/lib/other' },
    });
    expect(config?.server.data_dir).toBe('/var/lib/lifeline');
    expect(meta.sources['server.data_dir']).toBe('default');
  });

  test('a configured data_dir beats STATE_DIRECTORY', () => {
    const { config } = loadPlain({
      env: { STATE_DIRECTORY: '/var/lib/lifeline', LIFELINE_SERVER_DATA_DIR: '/srv/data' },
    });
    expect(config?.server.data_dir).toBe('/srv/data');
  });

  test.each([
    { isTTY: true, format: 'pretty' },
    { isTTY: false, format: 'json' },
  ])('log.format defaults to $format when isTTY is $isTTY', ({ isTTY, format }) => {
    expect(loadPlain({ isTTY }).config?.log.format).toBe(format as 'json');
  });
});

describe('loadConfig file lookup', () => {
  test('prefers --config over LIFELINE_CONFIG over ./lifeline.toml', () => {
    using dir = tempDir('lifeline-lookup');
    writeFileSync(dir.join('lifeline.toml'), '[server]\nport = 1001\n');
    writeFileSync(dir.join('env.toml'), '[server]\nport = 1002\n');
    writeFileSync(dir.join('flag.toml'), '[server]\nport = 1003\n');
    const base = { cwd: dir.path, isTTY: false };
    expect(loadConfig({ ...base, env: {} }).config?.server.port).toBe(1001);
    const env = { LIFELINE_CONFIG: 'env.toml' };
    expect(loadConfig({ ...base, env }).config?.server.port).toBe(1002);
    expect(loadConfig({ ...base, env, configPath: 'flag.toml' }).config?.server.port).toBe(1003);
  });

  test('runs on defaults when no file exists and none was named', () => {
    const result = loadPlain();
    expect(result.meta.file).toBeUndefined();
    expect(result.config).toBeDefined();
  });

  test.each([
    { how: 'flag', input: { configPath: 'missing.toml' }, source: 'flag --config' },
    {
      how: 'env',
      input: { env: { LIFELINE_CONFIG: 'missing.toml' } },
      source: 'env LIFELINE_CONFIG',
    },
  ])('a named file that is missing is an error naming the $how', ({ input, source }) => {
    const result = loadPlain(input);
    expect(result.config).toBeUndefined();
    expect(result.issues).toHaveLength(1);
    expect(result.issues[0]?.source).toBe(source);
    expect(result.issues[0]?.message).toContain('missing.toml');
    expect(result.issues[0]?.message).toContain('ENOENT');
  });

  test('reports issues from every source at once', () => {
    const result = loadToml('[server]\nprot = 1\n', {
      env: { LIFELINE_BREAKER_COOLDOWN: '5' },
      flags: { 'server.port': 'abc' },
    });
    expect(result.config).toBeUndefined();
    expect(result.issues.map((issue) => issue.key).sort()).toEqual([
      'LIFELINE_BREAKER_COOLDOWN',
      'server.port',
      'server.prot',
    ]);
  });

  test('reports a typo with the nearest key and the file line', () => {
    const result = loadConfig({ env: {}, isTTY: false, configPath: join(FIXTURES, 'typo.toml') });
    expect(result.issues).toEqual([
      {
        key: 'breaker.coldown_s',
        source: `${join(FIXTURES, 'typo.toml')}:5`,
        message: 'unknown config key breaker.coldown_s',
        fix: 'did you mean breaker.cooldown_s?',
      },
    ]);
  });
});
