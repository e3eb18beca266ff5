/**
 * The fake Zep server's faults as a plain fetch client sees them (docs/faults.md#memory-faults, #m1
 * (M1–M11)), plus recording, in-flight counts, the delivery log and the request hook.
 */
import { afterEach, describe, expect, test } from 'bun:test';
import { FakeClock } from './clock.ts';
import type { FakeZep, FakeZepOptions } from './fake-zep.ts';
import { startFakeZep } from './fake-zep.ts';
import { delayMsOf } from './fake-zep-faults.ts';
import { call, rejectionOf } from './http.ts';
import { waitFor } from './spawn.ts';

const AUTH = { authorization: 'Api-Key k' };
let zep: FakeZep | null = null;

afterEach(async () => {
  await zep?.stop();
  zep = null;
});

async function start(options: Partial<FakeZepOptions> = {}) {
  zep = await startFakeZep({ mode: 'v2-ce', apiKey: 'k', ...options });
  return zep;
}

const add = (z: FakeZep, uuid: string, session = 's1') =>
  call(
    z.url,
    'POST',
    `/api/v2/sessions/${session}/memory`,
    {
      messages: [{ uuid, role_type: 'user', content: `message ${uuid}` }],
    },
    AUTH,
  );

describe('fake Zep faults', () => {
  test('hang holds the request until the client aborts, then frees the socket', async () => {
    const z = await start();
    await z.setFault({ kind: 'hang' });
    const error = await rejectionOf(
      fetch(`${z.url}/healthz`, { signal: AbortSignal.timeout(100) }),
    );
    expect(error.name).toBe('TimeoutError');
    await waitFor(() => z.openConnections === 0 && z.inFlight === 0);
    expect(z.requests().map((r) => [r.fault, r.status])).toEqual([['hang', null]]);
    expect(z.requests()[0]?.endedAtMs).not.toBeNull();
  });

  test('delay answers normally after the delay and commits the write first', async () => {
    const z = await start();
    await z.setFault({ kind: 'delay', ms: 20 });
    expect((await add(z, 'm1')).status).toBe(201);
    expect(z.requests()[0]?.fault).toBe('delay');
    expect(z.deliveries().map((d) => d.uuid)).toEqual(['m1']);
  });

  test('a delay range picks within [minMs, maxMs]', () => {
    const fault = { kind: 'delay', minMs: 100, maxMs: 300 } as const;
    expect([
      delayMsOf(fault, () => 0),
      delayMsOf(fault, () => 0.5),
      delayMsOf(fault, () => 0.999),
    ]).toEqual([100, 200, 299.8]);
  });

  test('status answers the given code, headers and the mode error body without committing', async () => {
    const z = await start();
    await z.setFault({ kind: 'status', status: 429, headers: { 'retry-after': '120' } });
    const answer = await add(z, 'm1');
    expect([answer.status, answer.headers.get('retry-after'), answer.json]).toEqual([
      429,
      '120',
      { message: 'fault injected: 429' },
    ]);
    expect(z.deliveries()).toEqual([]);
  });

  test('status with commit stores the write and still fails it (indeterminate write)', async () => {
    const z = await start();
    await z.setFault({ kind: 'status', status: 503, body: 'upstream down', commit: true });
    const answer = await add(z, 'm1');
    expect([answer.status, answer.text]).toEqual([503, 'upstream down']);
    expect(z.deliveries().map((d) => d.uuid)).toEqual(['m1']);
  });

  test('v1 status faults use the text error body and keep the version header', async () => {
    const z = await start({ mode: 'v1' });
    await z.setFault({ kind: 'status', status: 502 });
    const answer = await call(z.url, 'GET', '/api/v1/user?limit=1');
    expect([answer.status, answer.text, answer.headers.get('x-zep-version')]).toEqual([
      502,
      'fault injected: 502\n',
      '0.27.2-fake (n/a)',
    ]);
  });

  test('refuse closes the listener for real and heal reopens the same port', async () => {
    const z = await start();
    await z.setFault({ kind: 'refuse' });
    const error = await rejectionOf(fetch(`${z.url}/healthz`));
    expect(error.code).toBe('ECONNREFUSED');
    expect(z.openConnections).toBe(0);
    await z.heal();
    expect((await call(z.url, 'GET', '/healthz')).text).toBe('.');
  });

  test('reset_mid_body makes the client see ECONNRESET after the write was stored', async () => {
    const z = await start();
    await z.setFault({ kind: 'reset_mid_body' });
    const error = await rejectionOf(add(z, 'm1'));
    expect(error.code).toBe('ECONNRESET');
    expect(z.deliveries().map((d) => d.uuid)).toEqual(['m1']);
    expect(z.requests()[0]?.status).toBe(201);
  });

  test('truncated promises more bytes than it sends and the body read fails', async () => {
    const z = await start();
    await z.setFault({ kind: 'truncated' });
    const error = await rejectionOf(
      call(z.url, 'GET', '/api/v2/sessions/s1/memory', undefined, AUTH),
    );
    expect(error.code).toBe('ECONNRESET');
  });

  test('invalid_json keeps the status and breaks the body', async () => {
    const z = await start();
    await z.setFault({ kind: 'invalid_json' });
    const res = await fetch(`${z.url}/api/v2/sessions/s1/memory`, { headers: AUTH });
    expect(res.status).toBe(200);
    expect((await rejectionOf(res.json())).name).toBe('SyntaxError');
  });

  test('wrong_shape answers the given value instead of the real body', async () => {
    const z = await start();
    await z.setFault({ kind: 'wrong_shape', body: { results: null } });
    const answer = await call(
      z.url,
      'POST',
      '/api/v2/sessions/search',
      { text: 'x', session_ids: ['s1'] },
      AUTH,
    );
    expect([answer.status, answer.json]).toEqual([200, { results: null }]);
  });

  test('nth, pathIncludes, methods and percent limit which requests are hit', async () => {
    const z = await start({ random: () => 0.3 });
    await z.setFault({
      kind: 'status',
      status: 503,
      nth: 2,
      pathIncludes: '/memory',
      methods: ['POST'],
    });
    const statuses = [];
    statuses.push((await call(z.url, 'GET', '/api/v2/sessions/s1/memory', undefined, AUTH)).status);
    for (const id of ['a', 'b', 'c']) statuses.push((await add(z, id)).status);
    statuses.push((await call(z.url, 'GET', '/healthz')).status);
    expect(statuses).toEqual([200, 201, 503, 201, 200]);
    await z.setFault({ kind: 'status', status: 500, percent: 50 });
    expect((await call(z.url, 'GET', '/healthz')).status).toBe(500);
    await z.setFault({ kind: 'status', status: 500, percent: 20 });
    expect((await call(z.url, 'GET', '/healthz')).status).toBe(200);
  });

  test('flap follows its up/down schedule on the injected clock', async () => {
    const clock = new FakeClock();
    const z = await start({ clock });
    await z.setFault({
      kind: 'flap',
      upMs: 1000,
      downMs: 500,
      downFault: { kind: 'status', status: 503 },
    });
    const seen = [];
    for (const stepMs of [0, 999, 1, 499, 1, 999, 1]) {
      clock.advance(stepMs);
      seen.push((await call(z.url, 'GET', '/healthz')).status);
    }
    expect(seen).toEqual([200, 200, 503, 503, 200, 200, 503]);
  });

  test('flap with refuse alternates real refusals and answers on the same port', async () => {
    const z = await start();
    await z.setFault({ kind: 'flap', upMs: 40, downMs: 40, downFault: { kind: 'refuse' } });
    const outcome = () =>
      fetch(`${z.url}/healthz`).then(
        (r) => String(r.status),
        (e: { code?: string }) => String(e.code),
      );
    await waitFor(async () => (await outcome()) === 'ECONNREFUSED');
    await waitFor(async () => (await outcome()) === '200');
    await z.heal();
    expect(await outcome()).toBe('200');
  });

  test('records each request with redacted auth, parsed body, status and times', async () => {
    const z = await start();
    await add(z, 'm1');
    await call(z.url, 'GET', '/api/v2/sessions/s1/memory?lastn=2', undefined, AUTH);
    const [first, second] = z.requests();
    expect(first).toMatchObject({
      index: 1,
      method: 'POST',
      path: '/api/v2/sessions/s1/memory',
      query: {},
      body: { messages: [{ uuid: 'm1', role_type: 'user', content: 'message m1' }] },
      status: 201,
      fault: null,
    });
    expect(first?.headers.authorization).toBe('Api-Key <redacted>');
    expect(second).toMatchObject({
      method: 'GET',
      query: { lastn: '2' },
      body: undefined,
      status: 200,
    });
    expect(second!.endedAtMs! >= second!.startedAtMs).toBe(true);
    z.clearRequests();
    expect(z.requests()).toEqual([]);
  });

  test('validate records schema problems per request', async () => {
    const z = await start({ validate: true });
    await call(
      z.url,
      'POST',
      '/api/v2/sessions/s1/memory',
      { messages: [{ role: 'user', content: 1 }] },
      AUTH,
    );
    const problems = z.requests()[0]?.problems ?? [];
    expect(problems.some((p) => p.includes('role_type'))).toBe(true);
    expect(problems.some((p) => p.includes('/content'))).toBe(true);
  });

  test('the request hook runs before answering and counts peak in-flight', async () => {
    const z = await start();
    let release = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const seen: number[] = [];
    z.onRequest(async (request) => {
      seen.push(request.index);
      await gate;
    });
    const pending = Promise.all(['a', 'b', 'c'].map((id) => add(z, id, `s-${id}`)));
    await waitFor(() => z.inFlight === 3);
    expect(z.deliveries()).toEqual([]);
    release();
    expect((await pending).map((a) => a.status)).toEqual([201, 201, 201]);
    expect([z.peakInFlight, z.inFlight, seen.sort()]).toEqual([3, 0, [1, 2, 3]]);
  });

  test('the delivery log keeps every arrival and the store deduplicates by UUID', async () => {
    const z = await start();
    await add(z, 'm1');
    await add(z, 'm2');
    await add(z, 'm1');
    expect(z.deliveries().map((d) => [d.uuid, d.sessionId, d.arrivalIndex])).toEqual([
      ['m1', 's1', 0],
      ['m2', 's1', 1],
      ['m1', 's1', 2],
    ]);
    expect(z.uniqueDelivered().map((d) => d.uuid)).toEqual(['m1', 'm2']);
    expect(z.duplicates()).toBe(1);
    expect(z.store.sessions.get('s1')?.messages.map((m) => m.uuid)).toEqual(['m1', 'm2']);
  });

  test('a v1 message without uuid is logged with a made-up one', async () => {
    const z = await start({ mode: 'v1' });
    await call(z.url, 'POST', '/api/v1/sessions/s1/memory', {
      messages: [{ role: 'user', content: 'x' }],
    });
    expect(z.deliveries()).toEqual([
      { uuid: expect.any(String), sessionId: 's1', arrivalIndex: 0, clientUuid: false },
    ]);
  });
});
