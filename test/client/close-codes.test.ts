import { describe, expect, test } from 'bun:test';
import { closeAction } from '../../client/close-codes.ts';

describe('closeAction', () => {
  test.each([
    [4001, 'refresh_token'],
    [4003, 'stop'],
    [4008, 'slow_down'],
    [4000, 'stop'],
    [4002, 'stop'],
    [4500, 'stop'],
    [4999, 'stop'],
    [1001, 'after_hint'],
    [1012, 'after_hint'],
    [1000, 'backoff'],
    [1002, 'backoff'],
    [1006, 'backoff'],
    [1008, 'backoff'],
    [1009, 'backoff'],
    [1011, 'backoff'],
    [1013, 'backoff'],
    [3000, 'backoff'],
    [3999, 'backoff'],
    [5000, 'backoff'],
  ])('close %i → %s', (code, kind) => {
    expect(closeAction(code).kind).toBe(kind as never);
  });

  test('a stop carries the server reason, or says which code refused', () => {
    expect(closeAction(4003, 'forbidden')).toEqual({ kind: 'stop', reason: 'forbidden' });
    expect(closeAction(4003)).toEqual({ kind: 'stop', reason: 'forbidden' });
    expect(closeAction(4404)).toEqual({
      kind: 'stop',
      reason: 'refused by the server (close 4404)',
    });
  });
});
