import { describe, expect, test } from 'bun:test';
import { configKeys } from '../../src/config/keys.ts';
import {
  applyOverrides,
  checkOverrideValue,
  parseOverrideValue,
} from '../../src/config/overrides.ts';
import { showConfig } from '../../src/config/show.ts';
import { loadPlain } from './helpers.ts';

const base = loadPlain({ env: { LIFELINE_BREAKER_COOLDOWN_S: '45' } });
const config = base.config!;

describe('parseOverrideValue', () => {
  test.each([
    { key: 'breaker.cooldown_s', raw: '60', value: 60 },
    { key: 'breaker.backoff', raw: '1.5', value: 1.5 },
    { key: 'log.level', raw: 'debug', value: 'debug' },
    { key: 'limits.burst', raw: '100', value: 100 },
  ])('parses $key = $raw', ({ key, raw, value }) => {
    expect(parseOverrideValue(key, raw, config)).toEqual({ ok: true, value });
  });

  test('refuses a key that is not tunable, with the reason', () => {
    expect(parseOverrideValue('server.port', '9000')).toEqual({
      ok: false,
      issue: {
        key: 'server.port',
        source: 'runtime override',
        message:
          'server.port is not a runtime tunable: set it in the config file, env or flags and restart',
      },
    });
  });

  test('refuses an unknown key with the nearest key', () => {
    const result = parseOverrideValue('breaker.coldown_s', '5');
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.issue.message).toBe('unknown config key breaker.coldown_s');
      expect(result.issue.fix).toBe('did you mean breaker.cooldown_s?');
    }
  });

  test.each([
    {
      key: 'breaker.cooldown_s',
      raw: 'soon',
      message: 'breaker.cooldown_s must be an integer from 1 to 86400 (got "soon")',
    },
    {
      key: 'breaker.cooldown_s',
      raw: '0',
      message: 'breaker.cooldown_s must be an integer from 1 to 86400 (got 0)',
    },
    {
      key: 'log.level',
      raw: 'loud',
      message: 'log.level must be one of debug, info, warn, error (got "loud")',
    },
    {
      key: 'breaker.cooldown_s',
      raw: '400',
      message: 'breaker.cooldown_s (400) must not exceed breaker.cooldown_max_s (300)',
    },
    {
      key: 'limits.messages_per_s',
      raw: '100',
      message: 'limits.burst (40) must be at least limits.messages_per_s (100)',
    },
  ])('refuses $key = $raw', ({ key, raw, message }) => {
    const result = parseOverrideValue(key, raw, config);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.issue.message).toBe(message);
  });

  test('every tunable is one of the sections the design marks as tunable', () => {
    const tunable = configKeys()
      .filter((spec) => spec.tunable)
      .map((spec) => spec.key);
    const allowed =
      /^(breaker|outbox|history|rehydration|limits)\.|^memory\.timeout_ms$|^log\.level$|^assistant\.(?!backend$|url$|secret$)/;
    expect(tunable.filter((key) => !allowed.test(key))).toEqual([]);
    expect(tunable).toContain('memory.timeout_ms');
    expect(tunable).toContain('log.level');
    expect(
      configKeys()
        .filter((spec) => spec.secret)
        .map((spec) => spec.key),
    ).toEqual([
      'storage.postgres.url',
      'auth.jwt_secret',
      'auth.api_key',
      'memory.zep.api_key',
      'assistant.secret',
    ]);
  });

  test('checkOverrideValue accepts typed values and text alike', () => {
    expect(checkOverrideValue('outbox.batch_size', 10, config)).toEqual({ ok: true, value: 10 });
    expect(checkOverrideValue('outbox.batch_size', '10', config)).toEqual({ ok: true, value: 10 });
  });
});

describe('applyOverrides', () => {
  test('round trip: set applies with source override, unset returns to the configured value', () => {
    const set = applyOverrides(config, base.meta, [
      { key: 'breaker.cooldown_s', value: 60 },
      { key: 'log.level', value: 'debug' },
    ]);
    expect(set.issues).toEqual([]);
    expect(set.config.breaker.cooldown_s).toBe(60);
    expect(set.config.log.level).toBe('debug');
    const shown = showConfig(set.config, set.meta).find((row) => row.key === 'breaker.cooldown_s');
    expect(shown).toMatchObject({ value: 60, source: 'override', location: 'runtime override' });

    const unset = applyOverrides(config, base.meta, [{ key: 'log.level', value: 'debug' }]);
    expect(unset.config.breaker.cooldown_s).toBe(45);
    expect(unset.meta.sources['breaker.cooldown_s']).toBe('env');
  });

  test('leaves its inputs unchanged', () => {
    const before = JSON.stringify({ config, meta: base.meta });
    applyOverrides(config, base.meta, [{ key: 'breaker.cooldown_s', value: 60 }]);
    expect(JSON.stringify({ config, meta: base.meta })).toBe(before);
  });

  test('skips bad rows as warnings and applies the rest', () => {
    const result = applyOverrides(config, base.meta, [
      { key: 'server.port', value: 9000 },
      { key: 'breaker.nope', value: 1 },
      { key: 'outbox.batch_size', value: 'many' },
      { key: 'limits.burst', value: 5 },
      { key: 'outbox.max_in_flight', value: 8 },
    ]);
    expect(result.config.server.port).toBe(7400);
    expect(result.config.limits.burst).toBe(40);
    expect(result.config.outbox.max_in_flight).toBe(8);
    expect(result.issues.map((issue) => [issue.key, issue.severity])).toEqual([
      ['server.port', 'warn'],
      ['breaker.nope', 'warn'],
      ['outbox.batch_size', 'warn'],
      ['limits.burst', 'warn'],
    ]);
  });

  test('loadConfig applies overrides last and still returns a config for bad rows', () => {
    const result = loadPlain({
      flags: { 'breaker.cooldown_s': '20' },
      overrides: [
        { key: 'breaker.cooldown_s', value: 25 },
        { key: 'server.host', value: '0.0.0.0' },
      ],
    });
    expect(result.config?.breaker.cooldown_s).toBe(25);
    expect(result.config?.server.host).toBe('127.0.0.1');
    expect(result.issues).toHaveLength(1);
    expect(result.issues[0]?.severity).toBe('warn');
  });
});
