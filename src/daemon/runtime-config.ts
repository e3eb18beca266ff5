/**
 * @module Live runtime configuration (docs/design.md#configuration, issue 7): the admin API and
 * `lifeline config set` write overrides of tunable keys into the database; this holder validates
 * and persists changes, notices rows written by another process (the CLI, another instance), and
 * tells the parts to apply them without a restart. A change is decided inside the store's write
 * transaction against the overrides stored at that moment, and this holder runs one patch or
 * refresh at a time, so what runs, what is stored and the audit trail agree (docs/decisions.md
 * "Runtime config writes are decided inside the write").
 */
import { type ConfigIssue, formatIssue } from '../config/issue.ts';
import type { LoadResult } from '../config/load.ts';
import { type ChangePlan, planChanges } from '../config/overrides.ts';
import type { Config } from '../config/schema.ts';
import { Emitter, type Unsubscribe } from '../lib/emitter.ts';
import { describeError } from '../lib/errors.ts';
import type { Logger } from '../lib/log.ts';
import type { OverrideWrite, RuntimeOverride, Store } from '../storage/store.ts';

/** Loads the config with the given overrides on top of file, env and flags. */
type Reload = (overrides: Array<{ key: string; value: unknown }>) => LoadResult;

/** Outcome of {@link RuntimeConfig.patch}. */
type PatchResult =
  | { ok: true; config: Config; changed: string[] }
  | { ok: false; issues: ConfigIssue[] };

/** What a set of stored overrides is compared by. */
function signatureOf(rows: ReadonlyArray<{ key: string; valueJson: string }>): string {
  return JSON.stringify(rows.map((row) => [row.key, row.valueJson]));
}

const NO_OVERRIDES = signatureOf([]);

/** Holds the effective config and applies runtime overrides live. */
export class RuntimeConfig {
  private effective: LoadResult;
  private signature = '';
  private readonly events = new Emitter<{ change: [config: Config, changed: string[]] }>();
  private timer: Timer | undefined;
  private tail: Promise<void> = Promise.resolve();

  constructor(
    initial: LoadResult,
    private readonly store: Store,
    private readonly reload: Reload,
    private readonly logger: Logger,
  ) {
    this.effective = initial;
    // No override in the initial load: an empty table changes nothing, so the first refresh
    // need not load the config again (docs/benchmarks.md, "Startup and the connect path").
    const overridden = Object.values(initial.meta.sources).includes('override');
    if (!overridden) this.signature = NO_OVERRIDES;
  }

  /** The config in force now. */
  get config(): Config {
    if (!this.effective.config) throw new Error('runtime config has no valid config');
    return this.effective.config;
  }

  /** The full load result (config, sources, issues) for `config show`-style views. */
  get loaded(): LoadResult {
    return this.effective;
  }

  /** Subscribes to applied changes; `changed` lists the dotted keys whose value changed. */
  onChange(listener: (config: Config, changed: string[]) => void): Unsubscribe {
    return this.events.on('change', listener);
  }

  /**
   * Validates every change against the stored state it replaces (all or nothing), persists the
   * ones that change a value with the actor for the audit trail, then applies them live.
   */
  patch(changes: Record<string, unknown>, actor: string): Promise<PatchResult> {
    if (Object.keys(changes).length === 0) return Promise.resolve({ ok: false, issues: [] });
    return this.exclusive(async () => {
      const plan = await this.store.updateOverrides(
        (stored) => planAgainst(stored, changes, this.reload),
        actor,
      );
      if (!plan.ok) return plan;
      const changed = await this.applyStored();
      return { ok: true, config: this.config, changed };
    });
  }

  /** Re-reads the stored overrides and applies them if they changed; returns the changed keys. */
  refresh(): Promise<string[]> {
    return this.exclusive(() => this.applyStored());
  }

  /** Runs `task` after every earlier patch and refresh, so an older read never wins. */
  private exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.tail.then(task);
    this.tail = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private async applyStored(): Promise<string[]> {
    const rows = await this.store.listOverrides();
    const signature = signatureOf(rows);
    if (signature === this.signature) return [];
    this.signature = signature;
    const next = this.reload(overridesOf(rows));
    if (!next.config) return [];
    const before = this.config;
    this.effective = next;
    const changed = changedKeys(before, next.config);
    if (changed.length === 0) return [];
    this.logger.info('runtime config applied', { changed });
    this.events.emit('change', next.config, changed);
    return changed;
  }

  /** Polls the database for overrides written by another process (`lifeline config set`). */
  startPolling(intervalMs: number): void {
    this.timer = setInterval(() => {
      this.refresh().catch((error) => {
        this.logger.warn('reading runtime overrides failed', { error: describeError(error) });
      });
    }, intervalMs);
    this.timer.unref();
  }

  /** Stops polling. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}

function overridesOf(rows: readonly RuntimeOverride[]) {
  return rows.map((row) => ({ key: row.key, value: JSON.parse(row.valueJson) as unknown }));
}

/**
 * The store plan of a change (admin PATCH or `config set`): checked against file, env and flags
 * with the rows stored right now applied; only values that change are written.
 */
export function planAgainst(
  stored: readonly RuntimeOverride[],
  changes: Record<string, unknown>,
  reload: Reload,
  check?: Parameters<typeof planChanges>[2],
): { writes: OverrideWrite[]; result: ChangePlan } {
  const base = reload(overridesOf(stored));
  if (!base.config) return { writes: [], result: { ok: false, issues: base.issues } };
  const result = planChanges(changes, base.config, check);
  const writes = result.ok
    ? result.writes.map((row) => ({ key: row.key, valueJson: JSON.stringify(row.value) }))
    : [];
  return { writes, result };
}

/**
 * The plan of `lifeline config unset KEY`, decided inside the write like {@link planAgainst}: the
 * row goes only when the overrides left behind still make a valid config (an unset can break a
 * rule that relates keys, e.g. burst ≥ rate, as surely as a set can). `removed` is false when
 * there was no row; `issues` say why the removal was refused.
 */
export function planUnset(
  stored: readonly RuntimeOverride[],
  key: string,
  reload: Reload,
): { writes: OverrideWrite[]; result: { removed: boolean; issues: ConfigIssue[] } } {
  if (!stored.some((row) => row.key === key)) {
    return { writes: [], result: { removed: false, issues: [] } };
  }
  // A stored row that breaks a rule is skipped with a warning when the config loads; the removal
  // may not add such a warning for another row (it would silently stop applying).
  const seen = new Set(reload(overridesOf(stored)).issues.map(formatIssue));
  const after = reload(overridesOf(stored.filter((row) => row.key !== key)));
  const added = after.issues.filter((issue) => !seen.has(formatIssue(issue)));
  if (!after.config || added.length > 0) {
    return { writes: [], result: { removed: false, issues: after.config ? added : after.issues } };
  }
  return { writes: [{ key, valueJson: null }], result: { removed: true, issues: [] } };
}

function changedKeys(before: Config, after: Config, prefix = ''): string[] {
  const keys: string[] = [];
  const a = before as unknown as Record<string, unknown>;
  const b = after as unknown as Record<string, unknown>;
  for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const path = prefix ? `${prefix}.${key}` : key;
    const left = a[key];
    const right = b[key];
    if (isPlainObject(left) && isPlainObject(right)) {
      keys.push(...changedKeys(left as unknown as Config, right as unknown as Config, path));
    } else if (JSON.stringify(left) !== JSON.stringify(right)) keys.push(path);
  }
  return keys;
}

function isPlainObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
