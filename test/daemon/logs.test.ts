/**
 * The daemon's logs (issue 7, docs/design.md#token-rules): stdout is JSON lines with `level`,
 * `time` and `msg`, and no secret reaches any line — not a token sent in `?token=`, in the
 * `bearer.` subprotocol, in the Authorization header or in `auth.refresh`, not a rejected token,
 * not the API key (right or wrong), not the JWT secret — with `log.level = debug` and a session
 * that makes the daemon log.
 */
import { afterEach, describe, expect, test } from 'bun:test';
import { mintToken } from '../../src/realtime/auth.ts';
import { type TempDir, tempDir } from '../support/temp.ts';
import { connect, openClient } from '../support/ws.ts';
import { API_KEY, JWT_SECRET, startServer, tokenFor } from './harness.ts';

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const WRONG_API_KEY = 'wrong-api-key-0f1e2d3c4b5a69788796a5b4';
const LEVELS = ['debug', 'info', 'warn', 'error'];

describe('daemon logs', () => {
  test('are JSON lines on stdout and never hold a token or a key', async () => {
    const dir: TempDir = tempDir('lifeline-ops-logs');
    cleanups.push(() => dir[Symbol.dispose]());
    const server = await startServer({
      dataDir: dir.join('data'),
      env: { LIFELINE_LOG_LEVEL: 'debug' },
    });
    cleanups.push(() => server[Symbol.asyncDispose]());

    const secrets: Record<string, string> = {
      jwtSecret: JWT_SECRET,
      apiKey: API_KEY,
      wrongApiKey: WRONG_API_KEY,
      queryToken: await tokenFor('u1'),
      subprotocolToken: await tokenFor('u2'),
      headerToken: await tokenFor('u3'),
      refreshToken: await tokenFor('u1', 900),
      forgedToken: await mintToken({
        secret: 'some-other-secret-0123456789abcdef-xyz',
        userId: 'u1',
        ttlS: 600,
      }),
      expiredToken: await mintToken({
        secret: JWT_SECRET,
        userId: 'u2',
        ttlS: 1,
        clock: { monoMs: () => 0, wallMs: () => Date.now() - 3_600_000 },
      }),
    };
    const t = secrets as Required<typeof secrets>;

    const byQuery = await connect(`${server.wsUrl}?thread=t1&token=${t.queryToken}`);
    cleanups.push(() => byQuery.client.close());
    const bySubprotocol = await connect(server.wsUrl, {
      protocols: ['lifeline.v1', `bearer.${t.subprotocolToken}`],
    });
    cleanups.push(() => bySubprotocol.client.close());
    const byHeader = await connect(server.wsUrl, {
      headers: { authorization: `Bearer ${t.headerToken}` },
    });
    cleanups.push(() => byHeader.client.close());
    for (const first of [byQuery.first, bySubprotocol.first, byHeader.first]) {
      expect(first).toMatchObject({ type: 'rehydrate' });
    }
    const refreshed = await byQuery.client.request({ type: 'auth.refresh', token: t.refreshToken });
    expect(refreshed).toMatchObject({ type: 'auth.ok' });
    expect(
      await byQuery.client.request({
        type: 'message',
        id: crypto.randomUUID(),
        thread_id: 't1',
        role: 'user',
        content: 'hello logs',
      }),
    ).toMatchObject({ type: 'ack' });

    // Refused tokens: a forged one in the query, an expired one in the subprotocol.
    const forged = openClient(`${server.wsUrl}?token=${t.forgedToken}`);
    expect((await forged.closed).code).toBe(4001);
    const expired = openClient(server.wsUrl, {
      protocols: ['lifeline.v1', `bearer.${t.expiredToken}`],
    });
    expect((await expired.closed).code).toBe(4001);

    // The API key, right and wrong, and a token in an HTTP query string.
    expect((await server.api('GET', '/api/v1/admin/status')).status).toBe(200);
    const wrong = await fetch(`${server.baseUrl}/api/v1/admin/status`, {
      headers: { authorization: `Bearer ${WRONG_API_KEY}` },
    });
    expect(wrong.status).toBe(401);
    await fetch(`${server.baseUrl}/api/v1/users/u1/state?token=${t.queryToken}`);
    // Breaker transitions and a runtime change make the daemon log too.
    expect((await server.api('POST', '/api/v1/admin/breaker/open')).status).toBe(200);
    expect((await server.api('POST', '/api/v1/admin/breaker/close')).status).toBe(200);
    const patched = await server.api('PATCH', '/api/v1/admin/config', {
      'breaker.failure_threshold': 4,
    });
    expect(patched.status).toBe(200);

    expect(await server.stop()).toBe(0);
    const stdout = server.stdout();
    const lines = stdout.split('\n').filter((line) => line !== '');
    expect(lines.length).toBeGreaterThan(5);
    for (const line of lines) {
      const parsed = JSON.parse(line) as Record<string, unknown>;
      expect(LEVELS).toContain(parsed.level as string);
      expect(typeof parsed.msg).toBe('string');
      expect(new Date(parsed.time as string).toISOString()).toBe(parsed.time as string);
    }
    const messages = lines.map((line) => (JSON.parse(line) as { msg: string }).msg);
    expect(messages).toContain('runtime config applied');
    expect(messages).toContain('stopped');

    const everything = `${stdout}\n${server.stderr()}`;
    const leaked = Object.entries(secrets).flatMap(([name, value]) => {
      // A JWT's signature alone is as good as the token for grepping; a key's first half too.
      const parts =
        value.split('.').length === 3 ? [value, value.split('.')[2] as string] : [value];
      const probe = [...parts, value.slice(0, Math.ceil(value.length / 2))];
      return probe.some((piece) => everything.includes(piece)) ? [name] : [];
    });
    expect(leaked).toEqual([]);
    const levels = new Map<string, number>();
    for (const line of lines) {
      const level = (JSON.parse(line) as { level: string }).level;
      levels.set(level, (levels.get(level) ?? 0) + 1);
    }
    process.stderr.write(
      `logs: ${lines.length} lines ${JSON.stringify(Object.fromEntries(levels))}\n`,
    );
  }, 30_000);
});
