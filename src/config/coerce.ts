/**
 * @module Turns the raw text of an env var, a flag or `config set` into a typed value for one key:
 * numbers, booleans (true/false/1/0/yes/no/on/off) and lists (comma-separated or a JSON array).
 * Range and enum checks happen later, in validate.ts, for every source alike.
 */
import { describeValue } from './issue.ts';
import type { KeySpec } from './keys.ts';

/** The outcome of {@link coerceRaw}: a typed value, or why the text does not fit the key. */
type CoerceResult = { ok: true; value: unknown } | { ok: false; message: string };

const NUMBER_TEXT = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const TRUE_WORDS = new Set(['true', '1', 'yes', 'on']);
const FALSE_WORDS = new Set(['false', '0', 'no', 'off']);

/** A description of what `spec` accepts, e.g. "an integer from 1 to 86400". */
export function expectedOf(spec: KeySpec): string {
  const range =
    spec.min !== undefined && spec.max !== undefined ? ` from ${spec.min} to ${spec.max}` : '';
  switch (spec.type) {
    case 'integer':
      return `an integer${range}`;
    case 'number':
      return `a number${range}`;
    case 'boolean':
      return 'true or false';
    case 'enum':
      return `one of ${(spec.values ?? []).join(', ')}`;
    case 'string[]':
      return 'a list of strings';
    case 'string':
      return 'a string';
  }
}

function coerceList(raw: string): unknown {
  const text = raw.trim();
  if (text.startsWith('[')) {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return undefined;
    }
  }
  return text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

/** Parses `raw` as the type of `spec`; strings and enums are taken as written. */
export function coerceRaw(spec: KeySpec, raw: string): CoerceResult {
  const text = raw.trim();
  const fail = (why?: string): CoerceResult => ({
    ok: false,
    message: `${spec.key} must be ${expectedOf(spec)} (got ${describeValue(raw, spec.secret)}${why === undefined ? '' : `, ${why}`})`,
  });
  switch (spec.type) {
    case 'integer':
    case 'number':
      return NUMBER_TEXT.test(text) ? { ok: true, value: Number(text) } : fail();
    case 'boolean': {
      const word = text.toLowerCase();
      if (TRUE_WORDS.has(word)) return { ok: true, value: true };
      if (FALSE_WORDS.has(word)) return { ok: true, value: false };
      return fail();
    }
    case 'string[]': {
      const list = coerceList(raw);
      return list === undefined ? fail('a malformed JSON array') : { ok: true, value: list };
    }
    case 'enum':
      return { ok: true, value: text };
    case 'string':
      return { ok: true, value: raw };
  }
}
