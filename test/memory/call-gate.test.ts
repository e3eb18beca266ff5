/**
 * The call gate (src/memory/call-gate.ts): the one door backend calls go through. It asks the
 * breaker for a permit, settles it from the classified outcome, refuses calls while the circuit is
 * open (no request leaves the process), and summarises refusals in one log line per cooldown.
 */
import { describe, expect, test } from 'bun:test';
import { CircuitBreaker } from '../../src/breaker/breaker.ts';
import { createLogger } from '../../src/lib/log.ts';
import { CallGate } from '../../src/memory/call-gate.ts';
import { answer, failure, type MemoryOutcome, rejected } from '../../src/memory/client.ts';
import { createMetrics } from '../../src/metrics/registry.ts';
import { DEFAULTS } from '../breaker/helpers.ts';
import { FakeClock } from '../support/clock.ts';

function gateOf(options: { admitProbe?: () => Promise<boolean> } = {}) {
  const clock = new FakeClock();
  const breaker = new CircuitBreaker({ ...DEFAULTS, clock, random: () => 0.5 });
  const lines: Array<{ msg: string; skipped?: number }> = [];
  const logger = createLogger({
    level: 'debug',
    format: 'json',
    sink: (line) => lines.push(JSON.parse(line)),
  });
  const metrics = createMetrics();
  const gate = new CallGate({ breaker, backendName: 'zep', clock, logger, metrics, ...options });
  let calls = 0;
  const call = (outcome: MemoryOutcome<string>) =>
    gate.run('add', async () => {
      calls++;
      return outcome;
    });
  return { clock, breaker, gate, lines, metrics, call, calls: () => calls };
}

const DOWN = failure('http_5xx', 'HTTP 503');

describe('CallGate', () => {
  test('an answer passes through and keeps the circuit steady', async () => {
    const g = gateOf();
    expect(await g.call(answer('hi'))).toEqual({ kind: 'answer', value: 'hi' });
    expect(g.gate.steady()).toBe(true);
    expect(g.gate.closed).toBe(true);
    expect(g.gate.blockedUntilMonoMs()).toBeNull();
  });

  test('a failure makes the circuit unsteady; a rejection is the service answering', async () => {
    const g = gateOf();
    await g.call(DOWN);
    expect(g.gate.steady()).toBe(false);
    expect(g.gate.closed).toBe(true);
    await g.call(rejected(400, 'bad message'));
    expect(g.gate.steady()).toBe(true);
  });

  test('a thrown error counts as a network failure, never escapes', async () => {
    const g = gateOf();
    const result = await g.gate.run('search', () => Promise.reject(new Error('socket hang up')));
    expect(result).toMatchObject({ kind: 'failure', failure: 'network' });
    expect(g.gate.steady()).toBe(false);
  });

  test('once open, calls are skipped without running, until the cooldown ends', async () => {
    const g = gateOf();
    for (let i = 0; i < DEFAULTS.failureThreshold; i++) await g.call(DOWN);
    expect(g.gate.closed).toBe(false);
    const blockedUntil = g.gate.blockedUntilMonoMs();
    expect(blockedUntil).toBe(g.clock.monoMs() + DEFAULTS.cooldownMs);
    const before = g.calls();
    for (let i = 0; i < 3; i++) expect(await g.call(answer('x'))).toEqual({ kind: 'skipped' });
    expect(g.calls()).toBe(before);
    const skipped = await g.metrics.breakerSkipped.get();
    expect(skipped.values).toEqual([{ labels: { backend: 'zep', operation: 'add' }, value: 3 }]);
    g.clock.advance(DEFAULTS.cooldownMs);
    expect(g.gate.blockedUntilMonoMs()).toBeNull();
    expect(await g.call(answer('back'))).toEqual({ kind: 'answer', value: 'back' });
    expect(g.gate.steady()).toBe(true);
  });

  test('refusals are summarised at most once per cooldown, with the count', async () => {
    const g = gateOf();
    // The summary window opened when the gate was built (t = 0); the circuit opens at t = 20 s
    // and stays open until t = 50 s.
    g.clock.advance(20_000);
    for (let i = 0; i < DEFAULTS.failureThreshold; i++) await g.call(DOWN);
    const summaries = () =>
      g.lines.filter((line) => line.msg.endsWith('skipped while the circuit is open'));
    for (let i = 0; i < 40; i++) await g.call(answer('x'));
    expect(summaries()).toEqual([]);
    g.clock.advance(10_000);
    await g.call(answer('x'));
    for (let second = 0; second < 19; second++) {
      g.clock.advance(1000);
      await g.call(answer('x'));
    }
    expect(summaries().map((line) => line.skipped)).toEqual([41]);
    expect(g.calls()).toBe(DEFAULTS.failureThreshold);
  });

  test('half-open: a call the cluster refuses the probe slot is skipped and frees its permit', async () => {
    let admit = false;
    const g = gateOf({ admitProbe: () => Promise.resolve(admit) });
    for (let i = 0; i < DEFAULTS.failureThreshold; i++) await g.call(DOWN);
    g.clock.advance(DEFAULTS.cooldownMs);
    const before = g.calls();
    expect(await g.call(answer('x'))).toEqual({ kind: 'skipped' });
    expect(g.calls()).toBe(before);
    admit = true;
    expect(await g.call(answer('probe'))).toEqual({ kind: 'answer', value: 'probe' });
    expect(g.gate.closed).toBe(true);
  });
});
