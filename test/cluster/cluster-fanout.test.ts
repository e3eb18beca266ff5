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
  const reads: string[] = [];
  const fanout = new ClusterFanout({
    history: {
      async eventsSince(userId, sinceSeq): Promise<EventsSinceResult> {
        reads.push(userId);
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
  return { fanout, got, commit, events, lost, reads };
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
  });

  test('ignores notices for users with no local socket and forgets them', async () => {
    const local = new Set(['v']);
    const { fanout, got, commit, reads } = setup({ local });
    fanout.observeSnapshot('v', 0);
    local.delete('v'); // the last socket of v closed
    commit(1, 'v');
    await fanout.notice('v', 1);
    expect(got).toEqual([]);
    expect(reads).toEqual([]);
    // Forgotten: a socket of v opened later starts afresh rather than from the old cursor 0.
    local.add('v');
    await fanout.publish('v', commit(2, 'v'));
    expect(got.map((entry) => entry.seq)).toEqual([2]);
    expect(reads).toEqual([]);
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
