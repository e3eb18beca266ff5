/**
 * The cluster fan-out on its own, over an in-memory history: frames reach the listener in seq
 * order with no gap whatever order local frames and remote notices come in, the writer's socket
 * is skipped, and a resync after lost notices delivers what was missed.
 */
import { describe, expect, test } from 'bun:test';
import { ClusterFanout } from '../../src/realtime/cluster-fanout.ts';
import type { PushFrame } from '../../src/realtime/protocol.ts';
import type { EventsSinceResult, HistoryEvent } from '../../src/storage/store.ts';

function setup(options: { local?: Set<string> } = {}) {
  const events = new Map<string, HistoryEvent[]>();
  const local = options.local ?? new Set(['u']);
  const lost: string[] = [];
  const fanout = new ClusterFanout({
    history: {
      async eventsSince(userId, sinceSeq): Promise<EventsSinceResult> {
        const all = events.get(userId) ?? [];
        if (all.length > 0 && sinceSeq < (all[0]?.seq ?? 1) - 1) return { kind: 'gone' };
        return { kind: 'ok', events: all.filter((event) => event.seq > sinceSeq) };
      },
    },
    hasLocal: (userId) => local.has(userId),
    onLost: (userId) => lost.push(userId),
  });
  const got: Array<{ seq: number; origin?: string }> = [];
  fanout.subscribe((_user, frame, origin) => got.push({ seq: frame.seq, origin }));
  const commit = (seq: number, userId = 'u'): PushFrame => {
    const list = events.get(userId) ?? [];
    list.push({ seq, type: 'event', payload: { event: 'e', data: seq }, createdAtWallMs: 0 });
    events.set(userId, list);
    return { type: 'event', seq, event: 'e', data: seq };
  };
  return { fanout, got, commit, events, lost };
}

describe('ClusterFanout', () => {
  test('delivers a local frame that follows the cursor at once, with its origin', async () => {
    const { fanout, got, commit } = setup();
    fanout.observeSnapshot('u', 0);
    await fanout.publish('u', commit(1), 'conn-1');
    expect(got).toEqual([{ seq: 1, origin: 'conn-1' }]);
  });

  test('fills a gap before a local frame from the history, in order, origin kept for the writer', async () => {
    const { fanout, got, commit } = setup();
    fanout.observeSnapshot('u', 0);
    commit(1); // another instance's event, its notice not here yet
    commit(2);
    await fanout.publish('u', commit(3), 'conn-1');
    expect(got).toEqual([
      { seq: 1, origin: undefined },
      { seq: 2, origin: undefined },
      { seq: 3, origin: 'conn-1' },
    ]);
    await fanout.notice('u', 2); // late notice: nothing more
    expect(got).toHaveLength(3);
  });

  test('a remote notice reads the history; a stale local frame is then dropped', async () => {
    const { fanout, got, commit } = setup();
    fanout.observeSnapshot('u', 0);
    const local = commit(1);
    commit(2);
    await fanout.notice('u', 2);
    await fanout.publish('u', local, 'conn-1');
    expect(got.map((entry) => entry.seq)).toEqual([1, 2]);
  });

  test('after lost notices, resync delivers the missed events', async () => {
    const { fanout, got, commit } = setup();
    fanout.observeSnapshot('u', 0);
    commit(1);
    commit(2); // both notices lost with the LISTEN connection
    expect(got).toEqual([]);
    await fanout.resync();
    expect(got.map((entry) => entry.seq)).toEqual([1, 2]);
    expect(fanout.stats().resyncs).toBe(1);
  });

  test('ignores notices for users with no local socket and forgets them', async () => {
    const { fanout, got, commit } = setup({ local: new Set() });
    commit(1, 'v');
    await fanout.notice('v', 1);
    expect(got).toEqual([]);
    expect(fanout.stats().trackedUsers).toBe(0);
  });

  test('when the history cannot fill the gap, the user’s sockets are handed to onLost', async () => {
    const { fanout, got, commit, events, lost } = setup();
    fanout.observeSnapshot('u', 0);
    commit(1);
    commit(2);
    events.set('u', (events.get('u') ?? []).slice(1)); // seq 1 trimmed
    await fanout.notice('u', 2);
    expect(got).toEqual([]);
    expect(lost).toEqual(['u']);
  });
});
