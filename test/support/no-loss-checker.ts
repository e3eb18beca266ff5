/**
 * @module The "nothing acknowledged is lost" checker (docs/faults.md#no-loss-checker), after
 * Jepsen's set test: clients add unique messages; an `ok` outcome is an acknowledged write, `info`
 * is indeterminate (timeout, disconnect), `fail` is a rejection. The final sources are the SQLite
 * message log and the fake Zep server's delivery log.
 */

/** How one client operation ended, as the test's history recorded it. */
export type Outcome =
  | { readonly ok: number }
  | { readonly fail: string }
  | { readonly info: string };

/** One client operation: a message `id` sent on `thread`. */
export interface HistoryRecord {
  readonly id: string;
  readonly thread: string;
  readonly outcome: Outcome;
}

/** One arrival at the fake (the shape of `FakeZep.deliveries()`). */
export interface DeliveryRecord {
  readonly uuid: string;
  readonly sessionId: string;
  readonly arrivalIndex: number;
}

/** An acknowledged pair delivered out of order within a thread. */
export interface OrderViolation {
  readonly thread: string;
  /** The id that arrived first although its seq is higher. */
  readonly earlierId: string;
  readonly earlierSeq: number;
  readonly laterId: string;
  readonly laterSeq: number;
}

/** The checker's findings; every list except `dupeIds` must be empty for a clean run. */
export interface NoLossReport {
  /** ok − sqlite: acknowledged but not durable (must be ∅ at every restart). */
  readonly lostLocal: string[];
  /** ok − delivered: acknowledged but never reached the service (∅ after the final drain). */
  readonly lost: string[];
  /** delivered − (ok ∪ info): the service got something no client was told was accepted. */
  readonly phantom: string[];
  /** fail ∩ sqlite: rejected input that changed the store. */
  readonly failedButStored: string[];
  /** delivered − delivered_unique, counted per arrival. */
  readonly dupes: number;
  /** Ids that arrived more than once. */
  readonly dupeIds: string[];
  /** Per thread, first arrivals whose acked `seq` does not increase. */
  readonly orderViolations: OrderViolation[];
}

/** Folds repeated records for one id: any `ok` wins, then `info`, else `fail`. */
function foldHistory(history: readonly HistoryRecord[]) {
  const byId = new Map<string, { thread: string; seq?: number; info: boolean; fail: boolean }>();
  for (const { id, thread, outcome } of history) {
    const entry = byId.get(id) ?? { thread, info: false, fail: false };
    if ('ok' in outcome)
      entry.seq = entry.seq === undefined ? outcome.ok : Math.min(entry.seq, outcome.ok);
    else if ('info' in outcome) entry.info = true;
    else entry.fail = true;
    byId.set(id, entry);
  }
  return byId;
}

/** Checks order: within each thread, first arrivals of acked ids must have increasing seq. */
function findOrderViolations(
  firsts: readonly DeliveryRecord[],
  byId: ReturnType<typeof foldHistory>,
): OrderViolation[] {
  const lastByThread = new Map<string, { id: string; seq: number }>();
  const violations: OrderViolation[] = [];
  for (const delivery of [...firsts].sort((a, b) => a.arrivalIndex - b.arrivalIndex)) {
    const entry = byId.get(delivery.uuid);
    if (entry?.seq === undefined) continue;
    const thread = entry.thread;
    const last = lastByThread.get(thread);
    if (last && entry.seq <= last.seq) {
      violations.push({
        thread,
        earlierId: last.id,
        earlierSeq: last.seq,
        laterId: delivery.uuid,
        laterSeq: entry.seq,
      });
      continue;
    }
    lastByThread.set(thread, { id: delivery.uuid, seq: entry.seq });
  }
  return violations;
}

/**
 * Runs the §5 checks. `lost` is only meaningful once the final drain has finished with the fake
 * healthy; callers checking mid-run should look at `lostLocal` only.
 */
export function checkNoLoss(input: {
  history: readonly HistoryRecord[];
  sqliteIds: Iterable<string>;
  deliveries: readonly DeliveryRecord[];
}): NoLossReport {
  const byId = foldHistory(input.history);
  const stored = new Set(input.sqliteIds);
  const ordered = [...input.deliveries].sort((a, b) => a.arrivalIndex - b.arrivalIndex);
  const counts = new Map<string, number>();
  const firsts: DeliveryRecord[] = [];
  for (const d of ordered) {
    const n = counts.get(d.uuid) ?? 0;
    if (n === 0) firsts.push(d);
    counts.set(d.uuid, n + 1);
  }
  const ids = [...byId.keys()];
  const acked = ids.filter((id) => byId.get(id)?.seq !== undefined);
  const failedOnly = ids.filter((id) => {
    const e = byId.get(id);
    return e?.fail === true && e.seq === undefined && !e.info;
  });
  return {
    lostLocal: acked.filter((id) => !stored.has(id)),
    lost: acked.filter((id) => !counts.has(id)),
    phantom: firsts
      .map((d) => d.uuid)
      .filter((id) => {
        const e = byId.get(id);
        return e === undefined || (e.seq === undefined && !e.info);
      }),
    failedButStored: failedOnly.filter((id) => stored.has(id)),
    dupes: ordered.length - firsts.length,
    dupeIds: [...counts].filter(([, n]) => n > 1).map(([id]) => id),
    orderViolations: findOrderViolations(firsts, byId),
  };
}

/** True when nothing was lost, invented, wrongly stored or reordered (dupes are allowed). */
export function isClean(report: NoLossReport): boolean {
  return (
    report.lostLocal.length === 0 &&
    report.lost.length === 0 &&
    report.phantom.length === 0 &&
    report.failedButStored.length === 0 &&
    report.orderViolations.length === 0
  );
}
