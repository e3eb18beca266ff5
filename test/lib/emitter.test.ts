import { describe, expect, test } from 'bun:test';
import { Emitter } from '../../src/lib/emitter.ts';

type Events = { change: [key: string, value: number]; other: [] };

describe('Emitter', () => {
  test('listeners of an event run in the order they were added, with its arguments', () => {
    const events = new Emitter<Events>();
    const seen: string[] = [];
    events.on('change', (key, value) => seen.push(`a:${key}=${value}`));
    events.on('change', (key, value) => seen.push(`b:${key}=${value}`));
    events.on('other', () => seen.push('other'));
    events.emit('change', 'k', 1);
    expect(seen).toEqual(['a:k=1', 'b:k=1']);
    expect(events.count('change')).toBe(2);
  });

  test('the unsubscribe removes only its listener, also while the event is being emitted', () => {
    const events = new Emitter<Events>();
    const seen: string[] = [];
    const off = events.on('change', () => {
      seen.push('once');
      off();
    });
    events.on('change', () => seen.push('always'));
    events.emit('change', 'k', 1);
    events.emit('change', 'k', 2);
    off();
    expect(seen).toEqual(['once', 'always', 'always']);
    expect(events.count('change')).toBe(1);
  });

  test('with onError a throwing listener is reported and the others still run', () => {
    const reported: unknown[] = [];
    const events = new Emitter<Events>((error, event, args) => reported.push([error, event, args]));
    const seen: number[] = [];
    const boom = new Error('boom');
    events.on('change', () => {
      throw boom;
    });
    events.on('change', (_key, value) => seen.push(value));
    events.emit('change', 'k', 7);
    expect(seen).toEqual([7]);
    expect(reported).toEqual([[boom, 'change', ['k', 7]]]);
  });

  test('without onError a throwing listener fails the emit', () => {
    const events = new Emitter<Events>();
    events.on('other', () => {
      throw new Error('must not throw');
    });
    expect(() => events.emit('other')).toThrow('must not throw');
  });

  test('off and clear remove listeners', () => {
    const events = new Emitter<Events>();
    const seen: string[] = [];
    const listener = () => seen.push('x');
    events.on('other', listener);
    events.off('other', listener);
    events.emit('other');
    events.on('other', listener);
    events.clear();
    events.emit('other');
    expect(seen).toEqual([]);
    expect(events.count('other')).toBe(0);
  });
});
