/**
 * Catalogue M10, "DNS: no such name": a memory base URL whose host does not resolve fails each
 * call fast, counts as a failure, opens the circuit after the threshold, and reads degrade to
 * `[]` (the resolver-hang variant needs a network namespace and is left to the nightly run).
 */
import { describe, expect, test } from 'bun:test';
import { memoryHarness } from './harness.ts';

describe('M10 DNS', () => {
  test('a host that does not resolve opens the circuit after the threshold; reads degrade', async () => {
    const unresolvable = (input: Parameters<typeof fetch>[0]) => {
      const url = new URL(String(input instanceof Request ? input.url : input));
      url.hostname = 'lifeline-m10.invalid';
      return url.toString();
    };
    await using h = await memoryHarness({
      fetch: (counting) =>
        Object.assign(
          (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) =>
            counting(unresolvable(input), init),
          { preconnect: fetch.preconnect },
        ),
    });
    const answers = [];
    for (let i = 0; i < 8; i++) answers.push(await h.service.search('u1', 't1', 'hello', 3));
    expect(answers.every((answer) => answer.degraded && answer.results.length === 0)).toBe(true);
    expect(h.service.status()).toBe('write_only');
    expect(h.fetchCalls()).toBe(5);
    expect(h.service.circuit().snapshot.lastError ?? '').not.toBe('');
    expect(h.zep.requests()).toEqual([]);
  });
});
