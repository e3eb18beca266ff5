/**
 * @module Flat view of the config schema: one {@link KeySpec} per leaf key, with its dotted name,
 * its LIFELINE_* env name and the flags docs, loading and `config set` need.
 */
import { Kind, OptionalKind, type TSchema } from '@sinclair/typebox';
import { configSchema } from './schema.ts';

/** The value kinds a leaf key can have. */
type KeyType = 'integer' | 'number' | 'string' | 'boolean' | 'enum' | 'string[]';

/** Everything known about one leaf key. */
export interface KeySpec {
  /** Dotted name, e.g. `breaker.cooldown_s`. */
  key: string;
  type: KeyType;
  /** Allowed values when `type` is `enum`. */
  values?: readonly string[];
  /** Built-in default; undefined for keys that are unset unless a source sets them. */
  default: unknown;
  /** How docs show the default when it is resolved at load time. */
  defaultText?: string;
  description: string;
  secret: boolean;
  tunable: boolean;
  /** Whether the key may be absent from the effective config. */
  optional: boolean;
  min?: number;
  max?: number;
  /** The environment variable that sets it, e.g. `LIFELINE_BREAKER_COOLDOWN_S`. */
  env: string;
  /** The leaf TypeBox schema. */
  schema: TSchema;
}

/** The environment variable name for a dotted key. */
export function envNameOf(key: string): string {
  return `LIFELINE_${key.replaceAll('.', '_').toUpperCase()}`;
}

function keyTypeOf(schema: TSchema): { type: KeyType; values?: string[] } {
  const kind = schema[Kind] as string;
  if (kind === 'Integer') return { type: 'integer' };
  if (kind === 'Number') return { type: 'number' };
  if (kind === 'Boolean') return { type: 'boolean' };
  if (kind === 'String') return { type: 'string' };
  if (kind === 'Array') return { type: 'string[]' };
  if (kind === 'Union') {
    const values = (schema.anyOf as TSchema[]).map((item) => String(item.const));
    return { type: 'enum', values };
  }
  throw new Error(`config schema: unsupported kind ${kind}`);
}

function specOf(key: string, schema: TSchema): KeySpec {
  const spec: KeySpec = {
    key,
    ...keyTypeOf(schema),
    default: schema.default,
    description: String(schema.description ?? ''),
    secret: schema.secret === true,
    tunable: schema.tunable === true,
    optional: schema[OptionalKind] === 'Optional',
    env: envNameOf(key),
    schema,
  };
  if (typeof schema.defaultText === 'string') spec.defaultText = schema.defaultText;
  if (typeof schema.minimum === 'number') spec.min = schema.minimum;
  if (typeof schema.maximum === 'number') spec.max = schema.maximum;
  return spec;
}

function walk(prefix: string, schema: TSchema, out: KeySpec[]): void {
  for (const [name, inner] of Object.entries(schema.properties as Record<string, TSchema>)) {
    const key = prefix ? `${prefix}.${name}` : name;
    if (inner[Kind] === 'Object') walk(key, inner, out);
    else out.push(specOf(key, inner));
  }
}

function buildKeys(): KeySpec[] {
  const out: KeySpec[] = [];
  walk('', configSchema, out);
  return out;
}

const KEYS: readonly KeySpec[] = buildKeys();
const BY_KEY = new Map(KEYS.map((spec) => [spec.key, spec]));
const BY_ENV = new Map(KEYS.map((spec) => [spec.env, spec]));
const SECTIONS = new Set(
  KEYS.flatMap((spec) => {
    const parts = spec.key.split('.');
    return parts.slice(0, -1).map((_, i) => parts.slice(0, i + 1).join('.'));
  }),
);

/** Every leaf key of the schema, in schema order. */
export function configKeys(): readonly KeySpec[] {
  return KEYS;
}

/** The spec of a dotted key, or undefined when no such key exists. */
export function keySpec(key: string): KeySpec | undefined {
  return BY_KEY.get(key);
}

/** The spec a LIFELINE_* variable sets, or undefined for an unknown name. */
export function keyForEnv(name: string): KeySpec | undefined {
  return BY_ENV.get(name);
}

/** Whether a dotted path names a section (a table), e.g. `memory.zep`. */
export function isSection(path: string): boolean {
  return SECTIONS.has(path);
}
