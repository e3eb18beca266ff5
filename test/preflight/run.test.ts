import { describe, expect, test } from 'bun:test';
import type { Clock } from '../../src/lib/clock.ts';
import { LifelineError } from '../../src/lib/errors.ts';
import { type Check, type CheckOutcome, fail, pass, warn } from '../../src/preflight/check.ts';
import { runChecks } from '../../src/preflight/run.ts';

function fakeClock(): Clock & { advance(ms: number): void } {
  let nowMs = 1000;
  return {
    monoMs: () => nowMs,
    wallMs: () => nowMs,
    advance: (ms) => {
      nowMs += ms;
    },
  };
}

function fixed(name: string, outcome: CheckOutcome, extra: Partial<Check> = {}): Check {
  return { name, run: async () => outcome, ...extra };
}

describe('runChecks', () => {
  test('runs every check even after one fails, in order', async () => {
    const ran: string[] = [];
    const track = (name: string, outcome: CheckOutcome): Check => ({
      name,
      run: async () => {
        ran.push(name);
        return outcome;
      },
    });
    const run = await runChecks([
      track('a', fail('broken', 'mend it')),
      track('b', pass('fine')),
      track('c', fail('also broken', 'mend that')),
    ]);
    expect(ran).toEqual(['a', 'b', 'c']);
    expect(run.results.map((r) => [r.name, r.status])).toEqual([
      ['a', 'fail'],
      ['b', 'ok'],
      ['c', 'fail'],
    ]);
  });

  test('turns a check that throws (async or sync) into a fail carrying the message', async () => {
    const asyncThrow: Check = {
      name: 'async',
      run: async () => {
        throw new Error('boom');
      },
    };
    const syncThrow: Check = {
      name: 'sync',
      run: () => {
        throw new TypeError('kaboom');
      },
    };
    const run = await runChecks([asyncThrow, syncThrow, fixed('after', pass('fine'))]);
    expect(run.results[0]).toMatchObject({
      name: 'async',
      status: 'fail',
      detail: 'check threw: boom',
    });
    expect(run.results[0]?.fix).toBeString();
    expect(run.results[1]).toMatchObject({
      name: 'sync',
      status: 'fail',
      detail: 'check threw: kaboom',
    });
    expect(run.results[2]?.status).toBe('ok');
    expect(run.ok).toBe(false);
  });

  test('uses the fix line of a thrown LifelineError', async () => {
    const check: Check = {
      name: 'typed',
      run: async () => {
        throw new LifelineError('storage_readonly', 'database is read-only', {
          fix: 'chown the data dir',
        });
      },
    };
    const run = await runChecks([check]);
    expect(run.results[0]).toMatchObject({ status: 'fail', fix: 'chown the data dir' });
  });

  test('measures each check on the injected monotonic clock', async () => {
    const clock = fakeClock();
    const slow = (name: string, ms: number): Check => ({
      name,
      run: async () => {
        clock.advance(ms);
        return pass('done');
      },
    });
    const run = await runChecks([slow('a', 25), slow('b', 0.125), slow('c', 1500)], { clock });
    expect(run.results.map((r) => r.durationMs)).toEqual([25, 0.13, 1500]);
  });

  test('fails a check that does not finish within the time limit and aborts its signal', async () => {
    let signal: AbortSignal | undefined;
    const hung: Check = {
      name: 'hung',
      run: (ctx) => {
        signal = ctx.signal;
        return new Promise<CheckOutcome>(() => {});
      },
    };
    const run = await runChecks([hung, fixed('next', pass('fine'))], { timeoutMs: 5 });
    expect(run.results[0]).toMatchObject({
      name: 'hung',
      status: 'fail',
      detail: 'did not finish within 5 ms',
    });
    expect(run.results[0]?.fix).toContain('hung');
    expect(signal?.aborted).toBe(true);
    expect(run.results[1]?.status).toBe('ok');
  });

  test('--strict turns a warn from a warnUnlessStrict check into a fail, and only that', async () => {
    const checks = [
      fixed('memory', warn('memory did not answer', 'start it'), { warnUnlessStrict: true }),
      fixed('disk-space', warn('low disk', 'free space')),
    ];
    const relaxed = await runChecks(checks);
    expect(relaxed.results.map((r) => r.status)).toEqual(['warn', 'warn']);
    expect(relaxed.ok).toBe(true);

    const strict = await runChecks(checks, { strict: true });
    expect(strict.strict).toBe(true);
    expect(strict.results.map((r) => r.status)).toEqual(['fail', 'warn']);
    expect(strict.results[0]?.detail).toBe('memory did not answer (a failure under --strict)');
    expect(strict.results[0]?.fix).toBe('start it');
    expect(strict.ok).toBe(false);
  });

  test('passes the strict flag to checks', async () => {
    let seen: boolean | undefined;
    const check: Check = {
      name: 'peek',
      run: async (ctx) => {
        seen = ctx.strict;
        return pass('ok');
      },
    };
    await runChecks([check], { strict: true });
    expect(seen).toBe(true);
  });

  test.each([
    [['ok', 'ok'], true],
    [['ok', 'warn'], true],
    [['warn', 'fail'], false],
    [['fail'], false],
    [[], true],
  ] as const)('statuses %p give ok=%p', async (statuses, expected) => {
    const checks = statuses.map((status, i) =>
      fixed(`c${i}`, status === 'ok' ? pass('x') : { status, detail: 'x', fix: 'y' }),
    );
    expect((await runChecks(checks)).ok).toBe(expected);
  });

  test('keeps detail and fix to one line and fills a missing fix', async () => {
    const sloppy = {
      name: 'sloppy',
      run: async () => ({ status: 'warn', detail: 'line one\n  line two\r\n', fix: '' }),
    } as unknown as Check;
    const garbage = { name: 'garbage', run: async () => ({ status: 'maybe' }) } as unknown as Check;
    const run = await runChecks([sloppy, garbage]);
    expect(run.results[0]).toMatchObject({ status: 'warn', detail: 'line one line two' });
    expect(run.results[0]?.fix).not.toBe('');
    expect(run.results[1]).toMatchObject({
      status: 'fail',
      detail: 'check returned an invalid result',
    });
  });
});
