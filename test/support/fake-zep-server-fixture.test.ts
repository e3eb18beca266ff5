/**
 * The fake Zep server as a child process: URL on stdout, faults from argv, control over stdin.
 */
import { describe, expect, test } from 'bun:test';
import { spawnFakeZepProcess } from './fake-zep-server-fixture.ts';
import { call } from './http.ts';

describe('fake Zep server fixture', () => {
  test('starts with a fault from argv and takes commands on stdin', async () => {
    await using child = await spawnFakeZepProcess([
      '--mode',
      'v2-ce',
      '--api-key',
      'k',
      '--fault',
      '{"kind":"status","status":503}',
    ]);
    expect(child.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const auth = { authorization: 'Api-Key k' };
    expect((await call(child.url, 'GET', '/api/v2/users-ordered', undefined, auth)).status).toBe(
      503,
    );
    expect(await child.command({ cmd: 'heal' })).toEqual({ ok: true });
    const body = { messages: [{ uuid: 'm1', role_type: 'user', content: 'hi' }] };
    expect((await call(child.url, 'POST', '/api/v2/sessions/s1/memory', body, auth)).status).toBe(
      201,
    );
    const stats = await child.command({ cmd: 'stats' });
    expect(stats).toMatchObject({ ok: true, requests: 2, inFlight: 0, duplicates: 0 });
    const deliveries = await child.command({ cmd: 'deliveries' });
    expect(deliveries).toMatchObject({
      deliveries: [{ uuid: 'm1', sessionId: 's1', arrivalIndex: 0 }],
    });
    expect(await child.command({ cmd: 'bogus' })).toMatchObject({ ok: false });
  });

  test('refuses connections for real when told to', async () => {
    await using child = await spawnFakeZepProcess(['--mode', 'v1']);
    await child.command({ cmd: 'setFault', fault: { kind: 'refuse' } });
    const error = await fetch(`${child.url}/healthz`).catch((e: { code?: string }) => e);
    expect((error as { code?: string }).code).toBe('ECONNREFUSED');
  });
});
