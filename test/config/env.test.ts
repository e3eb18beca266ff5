import { describe, expect, test } from 'bun:test';
import { Type } from '@sinclair/typebox';
import { coerceRaw } from '../../src/config/coerce.ts';
import { configKeys, envNameOf, type KeySpec, keyForEnv, keySpec } from '../../src/config/keys.ts';
import { readEnvSource } from '../../src/config/sources.ts';
import { loadPlain } from './helpers.ts';

function spec(key: string): KeySpec {
  const found = keySpec(key);
  if (found === undefined) throw new Error(`no key ${key}`);
  return found;
}

describe('env names', () => {
  test('every key has a distinct LIFELINE_ name that maps back to it', () => {
    const names = configKeys().map((item) => item.env);
    expect(new Set(names).size).toBe(names.length);
    for (const item of configKeys()) expect(keyForEnv(item.env)?.key).toBe(item.key);
  });

  test.each([
    ['breaker.cooldown_s', 'LIFELINE_BREAKER_COOLDOWN_S'],
    ['memory.zep.base_url', 'LIFELINE_MEMORY_ZEP_BASE_URL'],
    ['storage.postgres.url', 'LIFELINE_STORAGE_POSTGRES_URL'],
  ])('%s is set by %s', (key, env) => {
    expect(envNameOf(key)).toBe(env);
    expect(keyForEnv(env)?.key).toBe(key);
  });
});

describe('env parsing', () => {
  test.each([
    { key: 'server.port', raw: '9100', value: 9100 },
    { key: 'server.port', raw: ' 9100 ', value: 9100 },
    { key: 'breaker.backoff', raw: '1.5', value: 1.5 },
    { key: 'memory.timeout_ms', raw: '2e3', value: 2000 },
    { key: 'log.level', raw: 'debug', value: 'debug' },
    {
      key: 'server.allowed_origins',
      raw: 'https://a.test, https://b.test',
      value: ['https://a.test', 'https://b.test'],
    },
    {
      key: 'server.allowed_origins',
      raw: '["https://a.test","https://b.test"]',
      value: ['https://a.test', 'https://b.test'],
    },
    { key: 'server.allowed_origins', raw: 'https://a.test,,', value: ['https://a.test'] },
    { key: 'server.allowed_origins', raw: '', value: [] },
    { key: 'auth.jwt_secret', raw: ' keeps spaces ', value: ' keeps spaces ' },
  ])('$key from "$raw" is $value', ({ key, raw, value }) => {
    expect(coerceRaw(spec(key), raw)).toEqual({ ok: true, value });
  });

  const flag = {
    ...spec('server.port'),
    key: 'test.flag',
    type: 'boolean' as const,
    schema: Type.Boolean(),
  };
  test.each([
    ['true', true],
    ['TRUE', true],
    ['1', true],
    ['yes', true],
    ['on', true],
    ['false', false],
    ['0', false],
    ['No', false],
    ['off', false],
  ])('boolean "%s" is %p', (raw, value) => {
    expect(coerceRaw(flag, raw)).toEqual({ ok: true, value });
  });

  test.each([
    {
      key: 'server.port',
      raw: 'abc',
      message: 'server.port must be an integer from 0 to 65535 (got "abc")',
    },
    {
      key: 'server.port',
      raw: '12abc',
      message: 'server.port must be an integer from 0 to 65535 (got "12abc")',
    },
    {
      key: 'server.allowed_origins',
      raw: '["https://a.test"',
      message:
        'server.allowed_origins must be a list of strings (got "[\\"https://a.test\\"", a malformed JSON array)',
    },
  ])('$key rejects "$raw"', ({ key, raw, message }) => {
    expect(coerceRaw(spec(key), raw)).toEqual({ ok: false, message });
  });

  test('a word that is not a boolean is rejected', () => {
    expect(coerceRaw(flag, 'maybe')).toEqual({
      ok: false,
      message: 'test.flag must be true or false (got "maybe")',
    });
  });
});

describe('readEnvSource', () => {
  test('ignores variables without the LIFELINE_ prefix and LIFELINE_CONFIG', () => {
    const read = readEnvSource({ PATH: '/bin', HOME: '/root', LIFELINE_CONFIG: '/etc/x.toml' });
    expect(read).toEqual({ values: new Map(), issues: [] });
  });

  test('an empty scalar counts as unset', () => {
    const read = readEnvSource({ LIFELINE_SERVER_PORT: '', LIFELINE_AUTH_ISSUER: '  ' });
    expect(read.values.size).toBe(0);
    expect(read.issues).toEqual([]);
  });

  test('an unknown variable is an issue naming the nearest variable and key', () => {
    const read = readEnvSource({ LIFELINE_BREAKER_COOLDOWNS: '5' });
    expect(read.issues).toEqual([
      {
        key: 'LIFELINE_BREAKER_COOLDOWNS',
        source: 'env LIFELINE_BREAKER_COOLDOWNS',
        message: 'unknown environment variable LIFELINE_BREAKER_COOLDOWNS',
        fix: 'did you mean LIFELINE_BREAKER_COOLDOWN_S (breaker.cooldown_s)?',
      },
    ]);
  });

  test('a value out of range is reported against the env var', () => {
    const { config, issues } = loadPlain({ env: { LIFELINE_BREAKER_FAILURE_THRESHOLD: '0' } });
    expect(config).toBeUndefined();
    expect(issues).toEqual([
      {
        key: 'breaker.failure_threshold',
        source: 'env LIFELINE_BREAKER_FAILURE_THRESHOLD',
        message: 'breaker.failure_threshold must be an integer from 1 to 1000 (got 0)',
      },
    ]);
  });

  test('sets nested keys and lists through loadConfig', () => {
    const { config, issues } = loadPlain({
      env: {
        LIFELINE_MEMORY_BACKEND: 'zep',
        LIFELINE_MEMORY_ZEP_BASE_URL: 'http://127.0.0.1:8000',
        LIFELINE_SERVER_PUBLIC_ORIGINS: 'https://a.test,https://b.test:8443',
      },
    });
    expect(issues).toEqual([]);
    expect(config?.memory.zep.base_url).toBe('http://127.0.0.1:8000');
    expect(config?.server.public_origins).toEqual(['https://a.test', 'https://b.test:8443']);
  });
});
