import { describe, expect, test } from 'bun:test';
import { createLogger } from '../../src/lib/log.ts';
import { InProcessFanout } from '../../src/realtime/fanout.ts';
import type { PushFrame } from '../../src/realtime/protocol.ts';

const push = (seq: number): PushFrame => ({ type: 'preferences', seq, preferences: { n: seq } });

describe('InProcessFanout', () => {
  test('hands frames to every listener in publish order before publish resolves', async () => {
    const fanout = new InProcessFanout();
    const seen: string[] = [];
    fanout.subscribe((user, frame) => seen.push(`1:${user}:${frame.seq}`));
    fanout.subscribe((user, frame) => seen.push(`2:${user}:${frame.seq}`));
    const first = fanout.publish('u1', push(1));
    const second = fanout.publish('u2', push(2));
    expect(seen).toEqual(['1:u1:1', '2:u1:1', '1:u2:2', '2:u2:2']);
    await Promise.all([first, second]);
  });

  test('a throwing listener is logged and does not stop the others or fail the publish', async () => {
    const lines: string[] = [];
    const fanout = new InProcessFanout(
      createLogger({ format: 'json', sink: (line) => lines.push(line) }),
    );
    const seen: number[] = [];
    fanout.subscribe(() => {
      throw new Error('boom');
    });
    fanout.subscribe((_user, frame) => seen.push(frame.seq));
    await fanout.publish('u1', push(7));
    expect(seen).toEqual([7]);
    expect(lines.join('\n')).toContain('fan-out listener failed');
  });

  test('unsubscribe and close stop delivery', async () => {
    const fanout = new InProcessFanout();
    const seen: number[] = [];
    const off = fanout.subscribe((_user, frame) => seen.push(frame.seq));
    await fanout.publish('u1', push(1));
    off();
    await fanout.publish('u1', push(2));
    fanout.subscribe((_user, frame) => seen.push(frame.seq));
    await fanout.close();
    await fanout.publish('u1', push(3));
    expect(seen).toEqual([1]);
    expect(fanout.listenerCount).toBe(0);
  });
});
