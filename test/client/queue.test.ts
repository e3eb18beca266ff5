import { describe, expect, test } from 'bun:test';
import { OfflineQueue, QueueFullError } from '../../client/queue.ts';
import type { MessageFrame } from '../../src/realtime/protocol.ts';
import { uuid } from './fakes.ts';

function frame(n: number): MessageFrame {
  return { type: 'message', id: uuid(n), thread_id: 't1', role: 'user', content: `m${n}` };
}

describe('OfflineQueue', () => {
  test('keeps messages in the order they were added', () => {
    const queue = new OfflineQueue(10);
    for (const n of [3, 1, 2]) queue.add(frame(n));
    expect(queue.list().map((m) => m.content)).toEqual(['m3', 'm1', 'm2']);
    expect(queue.size).toBe(3);
  });

  test('refuses a message beyond its limit and keeps the ones it has', () => {
    const queue = new OfflineQueue(2);
    queue.add(frame(1));
    queue.add(frame(2));
    expect(() => queue.add(frame(3))).toThrow(QueueFullError);
    expect(queue.list().map((m) => m.content)).toEqual(['m1', 'm2']);
  });

  test('keeps one entry, in its first place, for an id added twice', () => {
    const queue = new OfflineQueue(2);
    queue.add(frame(1));
    queue.add(frame(2));
    queue.add({ ...frame(1), content: 'changed' });
    expect(queue.list().map((m) => m.content)).toEqual(['m1', 'm2']);
  });

  test('removes by id and makes room again', () => {
    const queue = new OfflineQueue(1);
    queue.add(frame(1));
    expect(queue.remove(uuid(1))).toBe(true);
    expect(queue.remove(uuid(1))).toBe(false);
    queue.add(frame(2));
    expect(queue.has(uuid(2))).toBe(true);
  });

  test('refuses a limit below one', () => {
    expect(() => new OfflineQueue(0)).toThrow(RangeError);
  });
});
