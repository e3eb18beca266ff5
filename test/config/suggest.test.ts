import { describe, expect, test } from 'bun:test';
import { didYouMean, suggestEnv, suggestKey } from '../../src/config/key-suggest.ts';
import { editDistance, suggest } from '../../src/config/suggest.ts';

describe('editDistance', () => {
  test.each([
    ['', '', 0],
    ['abc', '', 3],
    ['kitten', 'sitting', 3],
    ['cooldown_s', 'coldown_s', 1],
  ])('%p to %p is %p', (a, b, distance) => {
    expect(editDistance(a, b)).toBe(distance);
    expect(editDistance(b, a)).toBe(distance);
  });
});

describe('suggestKey', () => {
  test.each([
    ['breaker.coldown_s', 'breaker.cooldown_s'],
    ['breaker.cooldown', 'breaker.cooldown_s'],
    ['Breaker.Cooldown_S', 'breaker.cooldown_s'],
    ['breaker.cooldown-max-s', 'breaker.cooldown_max_s'],
    ['cooldown_s', 'breaker.cooldown_s'],
    ['memory.cooldown_s', 'breaker.cooldown_s'],
    ['server.prot', 'server.port'],
    ['memory.zep.api_verison', 'memory.zep.api_version'],
    ['limits.messages_per_sec', 'limits.messages_per_s'],
    ['log.lvl', 'log.level'],
  ])('%s → %s', (typo, key) => {
    expect(suggestKey(typo)).toBe(key);
  });

  test.each(['', 'completely.unrelated.thing', 'zzzzzz'])('nothing close to %p', (word) => {
    expect(suggestKey(word)).toBeUndefined();
  });

  test('didYouMean phrases the suggestion', () => {
    expect(didYouMean('breaker.coldown_s')).toBe('did you mean breaker.cooldown_s?');
    expect(didYouMean('nothing.like.it.at.all')).toBeUndefined();
  });
});

describe('suggest (generic)', () => {
  test('finds the nearest command or flag', () => {
    expect(suggest('serv', ['serve', 'check', 'migrate'])).toBe('serve');
    expect(suggest('--data_dir', ['--data-dir', '--port', '--host'])).toBe('--data-dir');
    expect(suggest('chekc', ['serve', 'check', 'migrate'])).toBe('check');
  });

  test('returns undefined with no candidates or nothing close', () => {
    expect(suggest('serve', [])).toBeUndefined();
    expect(suggest('deploy', ['serve', 'check'])).toBeUndefined();
  });
});

describe('suggestEnv', () => {
  test.each([
    ['LIFELINE_BREAKER_COOLDOWN', 'LIFELINE_BREAKER_COOLDOWN_S'],
    ['LIFELINE_SERVER_PROT', 'LIFELINE_SERVER_PORT'],
    ['LIFELINE_MEMORY_ZEP_BASEURL', 'LIFELINE_MEMORY_ZEP_BASE_URL'],
  ])('%s → %s', (typo, name) => {
    expect(suggestEnv(typo)).toBe(name);
  });
});
