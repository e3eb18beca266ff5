/**
 * @module Validation: each value against its key's type and range, a few formats (origins, URLs),
 * and the rules that relate keys (docs/design.md#cross-key-rules: cooldown ≤ cooldown max, burst ≥
 * rate). Every issue names its key and source, and **all** issues are returned, because preflight
 * reports them all.
 */
import { utf8Bytes } from '../lib/text.ts';
import { expectedOf } from './coerce.ts';
import { type ConfigIssue, describeValue } from './issue.ts';
import { didYouMean } from './key-suggest.ts';
import { configKeys, type KeySpec } from './keys.ts';
import type { FlatValues } from './tree.ts';

/** Maps a dotted key to the source its value came from, for issue text. */
type SourceOf = (key: string) => string;

/** HS256 keys shorter than this fail (docs/design.md#token-rules, RFC 8725 §3.5). */
const MIN_HS256_SECRET_BYTES = 32;

function typeFits(spec: KeySpec, value: unknown): boolean {
  switch (spec.type) {
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value);
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'enum':
      return typeof value === 'string' && (spec.values ?? []).includes(value);
    case 'string':
      return typeof value === 'string';
    case 'string[]':
      return Array.isArray(value) && value.every((item) => typeof item === 'string');
  }
}

function isOrigin(text: string): boolean {
  try {
    const url = new URL(text);
    return url.origin !== 'null' && url.origin === text;
  } catch {
    return false;
  }
}

function hasProtocol(text: string, protocols: readonly string[]): boolean {
  try {
    return protocols.includes(new URL(text).protocol);
  } catch {
    return false;
  }
}

const ORIGIN_RULE = (key: string) => (value: unknown) => {
  const bad = (value as string[]).findIndex((item) => !isOrigin(item));
  return bad < 0
    ? undefined
    : `${key} entry ${bad + 1} must be an origin such as https://chat.example.com (scheme://host[:port], no path or trailing slash)`;
};

/** Format rules beyond type and range, by key; each returns a message or undefined. */
const FORMAT_RULES: Record<string, (value: unknown) => string | undefined> = {
  'server.host': (value) =>
    (value as string).trim() === '' ? 'server.host must not be empty' : undefined,
  'server.data_dir': (value) =>
    (value as string).trim() === '' ? 'server.data_dir must not be empty' : undefined,
  'server.allowed_origins': ORIGIN_RULE('server.allowed_origins'),
  'server.public_origins': ORIGIN_RULE('server.public_origins'),
  'memory.zep.base_url': (value) =>
    hasProtocol(value as string, ['http:', 'https:'])
      ? undefined
      : 'memory.zep.base_url must be an http:// or https:// URL',
  'assistant.url': (value) =>
    hasProtocol(value as string, ['http:', 'https:'])
      ? undefined
      : 'assistant.url must be an http:// or https:// URL',
  'assistant.secret': (value) =>
    /^whsec_[A-Za-z0-9+/]+={0,2}$/.test(value as string)
      ? undefined
      : 'assistant.secret must be a Standard Webhooks secret: whsec_ followed by base64',
  'storage.postgres.url': (value) =>
    hasProtocol(value as string, ['postgres:', 'postgresql:'])
      ? undefined
      : 'storage.postgres.url must be a postgres:// or postgresql:// URL',
};

/**
 * Checks one value against its key: type, range, enum and format. Returns the message, which
 * names the key and what was expected, or undefined when the value fits.
 */
export function checkValue(spec: KeySpec, value: unknown): string | undefined {
  if (value === undefined) return spec.optional ? undefined : `${spec.key} is required`;
  const expected = `${spec.key} must be ${expectedOf(spec)}`;
  if (!typeFits(spec, value)) return `${expected} (got ${describeValue(value, spec.secret)})`;
  if (typeof value === 'number') {
    const outside =
      (spec.min !== undefined && value < spec.min) || (spec.max !== undefined && value > spec.max);
    if (outside) return `${expected} (got ${describeValue(value, spec.secret)})`;
  }
  return FORMAT_RULES[spec.key]?.(value);
}

type Rule = (get: (key: string) => unknown, sourceOf: SourceOf) => ConfigIssue | undefined;

const issueAt = (key: string, sourceOf: SourceOf, message: string, fix?: string): ConfigIssue =>
  fix === undefined
    ? { key, source: sourceOf(key), message }
    : { key, source: sourceOf(key), message, fix };

/**
 * `key` must be set when `choice` is `value` (reported where `choice` was set); the fix offers
 * setting it or choosing `other`.
 */
function requiredWhen(key: string, choice: string, value: string, other: string) {
  const rule: Rule = (get, src) =>
    get(choice) === value && get(key) === undefined
      ? issueAt(
          key,
          () => src(choice),
          `${key} is required when ${choice} is "${value}"`,
          `set ${key}, or ${choice} = "${other}"`,
        )
      : undefined;
  return { keys: [choice, key], rule };
}

/** Rules relating several keys; each runs only when the keys it reads passed their own checks. */
const CROSS_RULES: Array<{ keys: string[]; rule: Rule }> = [
  {
    keys: ['breaker.cooldown_s', 'breaker.cooldown_max_s'],
    rule: (get, src) =>
      (get('breaker.cooldown_s') as number) > (get('breaker.cooldown_max_s') as number)
        ? issueAt(
            'breaker.cooldown_s',
            src,
            `breaker.cooldown_s (${get('breaker.cooldown_s')}) must not exceed breaker.cooldown_max_s (${get('breaker.cooldown_max_s')})`,
            'lower breaker.cooldown_s or raise breaker.cooldown_max_s',
          )
        : undefined,
  },
  {
    keys: [
      'assistant.breaker.cooldown_s',
      'assistant.breaker.cooldown_max_s',
      'breaker.cooldown_s',
      'breaker.cooldown_max_s',
    ],
    rule: (get, src) => {
      // Unset assistant.breaker keys take breaker.*, whose own rule reports breaker.* alone.
      if (
        get('assistant.breaker.cooldown_s') === undefined &&
        get('assistant.breaker.cooldown_max_s') === undefined
      ) {
        return undefined;
      }
      const own = (key: string) => get(`assistant.breaker.${key}`) ?? get(`breaker.${key}`);
      const cooldown = own('cooldown_s') as number;
      const max = own('cooldown_max_s') as number;
      if (cooldown <= max) return undefined;
      const at =
        get('assistant.breaker.cooldown_s') === undefined
          ? 'assistant.breaker.cooldown_max_s'
          : 'assistant.breaker.cooldown_s';
      return issueAt(
        at,
        src,
        `the assistant circuit's cooldown (${cooldown} s) must not exceed its cooldown_max_s (${max} s); unset assistant.breaker keys take breaker.*`,
        'lower assistant.breaker.cooldown_s or raise assistant.breaker.cooldown_max_s',
      );
    },
  },
  {
    keys: ['limits.burst', 'limits.messages_per_s'],
    rule: (get, src) =>
      (get('limits.burst') as number) < (get('limits.messages_per_s') as number)
        ? issueAt(
            'limits.burst',
            src,
            `limits.burst (${get('limits.burst')}) must be at least limits.messages_per_s (${get('limits.messages_per_s')})`,
            'raise limits.burst or lower limits.messages_per_s',
          )
        : undefined,
  },
  {
    keys: ['auth.jwt_secret'],
    rule: (get, src) => {
      const secret = get('auth.jwt_secret');
      if (typeof secret !== 'string' || utf8Bytes(secret) >= MIN_HS256_SECRET_BYTES)
        return undefined;
      return issueAt(
        'auth.jwt_secret',
        src,
        `auth.jwt_secret must be at least ${MIN_HS256_SECRET_BYTES} bytes for HS256 (docs/design.md#token-rules)`,
        'generate one with: openssl rand -base64 48',
      );
    },
  },
  {
    keys: ['auth.jwt_secret', 'auth.jwt_public_key', 'auth.jwks_file'],
    rule: (get, src) => {
      const set = ['auth.jwt_secret', 'auth.jwt_public_key', 'auth.jwks_file'].filter(
        (key) => get(key) !== undefined,
      );
      if (set.length < 2) return undefined;
      return issueAt(
        set[1]!,
        src,
        `only one of auth.jwt_secret, auth.jwt_public_key and auth.jwks_file may be set (found ${set.join(' and ')})`,
        `remove all but one of ${set.join(', ')}`,
      );
    },
  },
  requiredWhen('memory.zep.base_url', 'memory.backend', 'zep', 'local'),
  requiredWhen('storage.postgres.url', 'storage.backend', 'postgres', 'sqlite'),
  {
    keys: ['assistant.backend', 'assistant.url', 'assistant.secret'],
    rule: (get, src) => {
      if (get('assistant.backend') !== 'http') return undefined;
      const missing = ['assistant.url', 'assistant.secret'].filter((key) => get(key) === undefined);
      if (missing.length === 0) return undefined;
      return issueAt(
        missing[0]!,
        () => src('assistant.backend'),
        `${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} required when assistant.backend is "http"`,
        'set assistant.url and assistant.secret (whsec_…), or assistant.backend = "none" or "demo"',
      );
    },
  },
];

/**
 * Validates a complete flat map of values (every key present, unset optional keys undefined).
 * Returns every issue: per-key checks first, then the cross-key rules whose keys passed.
 */
export function validateValues(values: FlatValues, sourceOf: SourceOf): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const bad = new Set<string>();
  for (const spec of configKeys()) {
    const message = checkValue(spec, values.get(spec.key));
    if (message === undefined) continue;
    bad.add(spec.key);
    issues.push({ key: spec.key, source: sourceOf(spec.key), message });
  }
  const get = (key: string) => values.get(key);
  for (const { keys, rule } of CROSS_RULES) {
    if (keys.some((key) => bad.has(key))) continue;
    const issue = rule(get, sourceOf);
    if (issue) issues.push(issue);
  }
  return issues;
}

/** An issue for a path that is not a config key, with the nearest valid key when one is close. */
export function unknownKeyIssue(key: string, source: string): ConfigIssue {
  const issue: ConfigIssue = { key, source, message: `unknown config key ${key}` };
  const fix = didYouMean(key);
  if (fix !== undefined) issue.fix = fix;
  return issue;
}
