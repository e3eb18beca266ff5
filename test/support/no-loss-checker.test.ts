/**
 * The docs/faults.md#no-loss-checker checker on hand-made histories: each finding is provoked on
 * its own.
 */
import { describe, expect, test } from 'bun:test';
import type { DeliveryRecord, HistoryRecord } from './no-loss-checker.ts';
import { checkNoLoss, isClean } from './no-loss-checker.ts';

const ok = (id: string, seq: number, thread = 't1'): HistoryRecord => ({
  id,
  thread,
  outcome: { ok: seq },
});
const info = (id: string, thread = 't1'): HistoryRecord => ({
  id,
  thread,
  outcome: { info: 'timeout' },
});
const fail = (id: string, thread = 't1'): HistoryRecord => ({
  id,
  thread,
  outcome: { fail: 'rate_limited' },
});
const arrivals = (...ids: string[]): DeliveryRecord[] =>
  ids.map((uuid, arrivalIndex) => ({ uuid, sessionId: 't1', arrivalIndex }));

describe('checkNoLoss', () => {
  test('reports a clean run with duplicates counted but allowed', () => {
    const report = checkNoLoss({
      history: [ok('a', 1), ok('b', 2), info('c')],
      sqliteIds: ['a', 'b', 'c'],
      deliveries: arrivals('a', 'b', 'a', 'c'),
    });
    expect(report).toEqual({
      lostLocal: [],
      lost: [],
      phantom: [],
      failedButStored: [],
      dupes: 1,
      dupeIds: ['a'],
      orderViolations: [],
    });
    expect(isClean(report)).toBe(true);
  });

  test('finds acked messages missing from SQLite and from the service', () => {
    const report = checkNoLoss({
      history: [ok('a', 1), ok('b', 2)],
      sqliteIds: ['a'],
      deliveries: arrivals('a'),
    });
    expect([report.lostLocal, report.lost, isClean(report)]).toEqual([['b'], ['b'], false]);
  });

  test('finds phantoms: delivered ids no client was told were accepted', () => {
    const report = checkNoLoss({
      history: [ok('a', 1), fail('r')],
      sqliteIds: ['a'],
      deliveries: arrivals('a', 'r', 'ghost'),
    });
    expect(report.phantom).toEqual(['r', 'ghost']);
  });

  test('an indeterminate write may be delivered or not', () => {
    const report = checkNoLoss({
      history: [info('x'), info('y')],
      sqliteIds: ['x'],
      deliveries: arrivals('x'),
    });
    expect(isClean(report)).toBe(true);
  });

  test('finds rejected input that was stored anyway', () => {
    const report = checkNoLoss({ history: [fail('bad')], sqliteIds: ['bad'], deliveries: [] });
    expect(report.failedButStored).toEqual(['bad']);
  });

  test('a resend acked after an earlier failure counts as acked, not failed', () => {
    const report = checkNoLoss({
      history: [fail('a'), ok('a', 1)],
      sqliteIds: ['a'],
      deliveries: arrivals('a'),
    });
    expect(isClean(report)).toBe(true);
  });

  test('finds first deliveries out of seq order within a thread only', () => {
    const report = checkNoLoss({
      history: [ok('a', 1), ok('b', 2), ok('c', 3), ok('x', 1, 't2'), ok('y', 2, 't2')],
      sqliteIds: ['a', 'b', 'c', 'x', 'y'],
      deliveries: [
        ...arrivals('a', 'c', 'b'),
        { uuid: 'x', sessionId: 't2', arrivalIndex: 3 },
        { uuid: 'y', sessionId: 't2', arrivalIndex: 4 },
        { uuid: 'c', sessionId: 't1', arrivalIndex: 5 },
      ],
    });
    expect(report.orderViolations).toEqual([
      { thread: 't1', earlierId: 'c', earlierSeq: 3, laterId: 'b', laterSeq: 2 },
    ]);
  });

  test('a redelivery of an earlier message does not count as reordering', () => {
    const report = checkNoLoss({
      history: [ok('a', 1), ok('b', 2)],
      sqliteIds: ['a', 'b'],
      deliveries: arrivals('a', 'b', 'a', 'b'),
    });
    expect([report.orderViolations, report.dupes]).toEqual([[], 2]);
  });
});
