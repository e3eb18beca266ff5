/**
 * @module Runtime overrides (docs/design.md#configuration): the highest-precedence source, stored
 * in SQLite by the storage layer and applied here as a pure function (docs/design.md#layers), so
 * config never imports storage. Only tunable keys may be overridden; anything else is refused with
 * the reason.
 */
import { coerceRaw } from './coerce.ts';
import type { ConfigIssue } from './issue.ts';
import { didYouMean } from './key-suggest.ts';
import { type KeySpec, keySpec } from './keys.ts';
import type { ConfigMeta } from './meta.ts';
import type { Config } from './schema.ts';
import { flattenConfig, nestValues } from './tree.ts';
import { checkValue, validateValues } from './validate.ts';

/** One stored override: a dotted key and its value (typed, or text to be parsed). */
export interface OverrideRow {
  key: string;
  value: unknown;
}

/** The outcome of checking one override. */
type OverrideResult = { ok: true; value: unknown } | { ok: false; issue: ConfigIssue };

/** How override values are named in issues and `config show`. */
const OVERRIDE_SOURCE = 'runtime override';

function refuse(key: string, message: string, fix?: string): OverrideResult {
  const issue: ConfigIssue = { key, source: OVERRIDE_SOURCE, message };
  if (fix !== undefined) issue.fix = fix;
  return { ok: false, issue };
}

/** The spec of a key that may be overridden, or the refusal naming why not. */
function tunableSpec(key: string): { spec: KeySpec } | { refused: OverrideResult } {
  const spec = keySpec(key);
  if (spec === undefined)
    return { refused: refuse(key, `unknown config key ${key}`, didYouMean(key)) };
  if (!spec.tunable) {
    return {
      refused: refuse(
        key,
        `${key} is not a runtime tunable: set it in the config file, env or flags and restart`,
      ),
    };
  }
  return { spec };
}

/** Checks `value` for `key` with it applied over `current` (cross-key rules included). */
function checkAgainst(spec: KeySpec, value: unknown, current: Config | undefined): OverrideResult {
  const message = checkValue(spec, value);
  if (message !== undefined) return refuse(spec.key, message);
  if (current === undefined) return { ok: true, value };
  const values = flattenConfig(current);
  values.set(spec.key, value);
  const issues = validateValues(values, () => OVERRIDE_SOURCE);
  return issues[0] === undefined ? { ok: true, value } : { ok: false, issue: issues[0] };
}

/**
 * Parses the text of `lifeline config set KEY VALUE` (or an admin API value) for `key`. Refuses
 * unknown keys (with a suggestion) and keys that are not tunable (with the reason). With
 * `current`, the value is also checked against the rules that relate keys.
 */
export function parseOverrideValue(key: string, raw: string, current?: Config): OverrideResult {
  const found = tunableSpec(key);
  if ('refused' in found) return found.refused;
  const coerced = coerceRaw(found.spec, raw);
  if (!coerced.ok) return refuse(key, coerced.message);
  return checkAgainst(found.spec, coerced.value, current);
}

/** Like {@link parseOverrideValue} for a value that is already typed (e.g. from JSON). */
export function checkOverrideValue(key: string, value: unknown, current?: Config): OverrideResult {
  const found = tunableSpec(key);
  if ('refused' in found) return found.refused;
  if (typeof value === 'string' && found.spec.type !== 'string' && found.spec.type !== 'enum') {
    return parseOverrideValue(key, value, current);
  }
  return checkAgainst(found.spec, value, current);
}

/**
 * Applies stored overrides over a valid config, in order. A row that is unknown, not tunable,
 * ill-typed or breaks a cross-key rule is skipped and reported as a warning, so a stale row
 * never stops the daemon from starting.
 */
export function applyOverrides(
  config: Config,
  meta: ConfigMeta,
  rows: readonly OverrideRow[],
): { config: Config; meta: ConfigMeta; issues: ConfigIssue[] } {
  let current = config;
  const next: ConfigMeta = {
    ...meta,
    sources: { ...meta.sources },
    locations: { ...meta.locations },
  };
  const issues: ConfigIssue[] = [];
  for (const row of rows) {
    const result = checkOverrideValue(row.key, row.value, current);
    if (!result.ok) {
      issues.push({
        ...result.issue,
        severity: 'warn',
        fix: result.issue.fix ?? `lifeline config unset ${row.key}`,
      });
      continue;
    }
    const values = flattenConfig(current);
    values.set(row.key, result.value);
    current = nestValues(values) as Config;
    next.sources[row.key] = 'override';
    next.locations[row.key] = OVERRIDE_SOURCE;
  }
  return { config: current, meta: next, issues };
}

/** What a set of changes comes to: the overrides to store, or every reason it is refused. */
export type ChangePlan = { ok: true; writes: OverrideRow[] } | { ok: false; issues: ConfigIssue[] };

/**
 * Checks every change against `base`, the config the change will replace (file, env and flags
 * with the stored overrides applied), each with the earlier ones applied so related keys can
 * change together; returns every problem, not just the first. Keys whose value would not change
 * are left out of `writes`, so a no-op never pins a key as an override. `check` parses the value
 * ({@link checkOverrideValue} for typed JSON, {@link parseOverrideValue} for command-line text).
 */
export function planChanges(
  changes: Record<string, unknown>,
  base: Config,
  check: (key: string, value: unknown, current: Config) => OverrideResult = checkOverrideValue,
): ChangePlan {
  const issues: ConfigIssue[] = [];
  const writes: OverrideRow[] = [];
  const values = flattenConfig(base);
  for (const [key, value] of Object.entries(changes)) {
    const result = check(key, value, nestValues(values) as Config);
    if (!result.ok) {
      issues.push(result.issue);
      continue;
    }
    if (JSON.stringify(values.get(key)) === JSON.stringify(result.value)) continue;
    values.set(key, result.value);
    writes.push({ key, value: result.value });
  }
  return issues.length > 0 ? { ok: false, issues } : { ok: true, writes };
}
