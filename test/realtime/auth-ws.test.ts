/**
 * Tokens over a real socket (docs/design.md#websocket, #token-rules; docs/faults.md#a1 (A1–A16)):
 * every bad token completes the upgrade and is closed with 4001 and a reason, with no frame before
 * the close; refresh keeps the socket; another user's token on refresh, or a refused user, is 4003;
 * expiry is announced and then enforced; no token reaches a log line.
 */
import { describe, expect, test } from 'bun:test';
import { createHmac } from 'node:crypto';
import { exportSPKI, generateKeyPair, type JWTPayload, SignJWT } from 'jose';
import { createLogger } from '../../src/lib/log.ts';
import { FakeClock } from '../support/clock.ts';
import { type Harness, startRealtime, TEST_SECRET } from '../support/realtime-harness.ts';
import { connect, openClient } from '../support/ws.ts';

const enc = new TextEncoder();
const nowS = () => Math.floor(Date.now() / 1000);
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

function hs(claims: JWTPayload, header: Record<string, unknown> = {}, secret = TEST_SECRET) {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', ...header })
    .sign(enc.encode(secret));
}

/** An HS256 token with any header, signed by hand (jose refuses to sign an unknown `crit`). */
function rawHs(header: Record<string, unknown>, claims: JWTPayload): string {
  const input = `${b64({ alg: 'HS256', ...header })}.${b64(claims)}`;
  const signature = createHmac('sha256', TEST_SECRET).update(input).digest('base64url');
  return `${input}.${signature}`;
}

const valid = (extra: JWTPayload = {}) => ({ sub: 'u1', exp: nowS() + 3600, ...extra });

/** Opens with `token` in ?token= and expects 4001 `reason` with no frame before the close. */
async function expectRefused(h: Harness, token: string | undefined, reason: string, code = 4001) {
  const query = token === undefined ? '' : `?token=${encodeURIComponent(token)}`;
  const client = openClient(`${h.wsUrl}${query}`);
  const closed = await client.closed;
  expect(closed).toEqual({ code, reason });
  expect(client.frames).toEqual([]);
}

describe('tokens at connect (4001, nothing sent first)', () => {
  test('A1–A10 and A12–A13 on an HS256 daemon', async () => {
    await using h = await startRealtime();
    const { privateKey } = await generateKeyPair('RS256');
    const rsToken = await new SignJWT(valid())
      .setProtectedHeader({ alg: 'RS256' })
      .sign(privateKey);
    const cases: Array<[string, string | undefined, string]> = [
      ['A1 none', undefined, 'token_invalid'],
      ['A2 not.a.jwt', 'not.a.jwt', 'token_invalid'],
      ['A2 two segments', 'abc.def', 'token_invalid'],
      ['A2 bad base64', '@@@.@@@.@@@', 'token_invalid'],
      [
        'A3 bad signature',
        await hs(valid(), {}, 'another-secret-that-is-32-bytes-long!!'),
        'token_invalid',
      ],
      ['A4 exp 31 s ago', await hs(valid({ exp: nowS() - 31 })), 'token_expired'],
      ['A5 no exp', await hs({ sub: 'u1' }), 'token_invalid'],
      ['A5 nbf ahead', await hs(valid({ nbf: nowS() + 120 })), 'token_invalid'],
      ['A6 alg none', `${b64({ alg: 'none' })}.${b64(valid())}.`, 'token_invalid'],
      ['A6 alg None', `${b64({ alg: 'None' })}.${b64(valid())}.`, 'token_invalid'],
      ['A6 alg NONE', `${b64({ alg: 'NONE' })}.${b64(valid())}.`, 'token_invalid'],
      ['A6 empty signature', `${b64({ alg: 'HS256' })}.${b64(valid())}.`, 'token_invalid'],
      ['A8 RS token, HS daemon', rsToken, 'token_invalid'],
      ['A10 crit', rawHs({ crit: ['x-unknown'], 'x-unknown': 1 }, valid()), 'token_invalid'],
      ['A12 9 KiB', await hs(valid({ pad: 'x'.repeat(9_000) })), 'token_invalid'],
      ['A13 sub __proto__', await hs(valid({ sub: '__proto__' })), 'token_invalid'],
      ['A13 sub empty', await hs(valid({ sub: '' })), 'token_invalid'],
      ['A13 sub 10 kB', await hs(valid({ sub: 'u'.repeat(7_000) })), 'token_invalid'],
    ];
    for (const [name, token, reason] of cases) {
      const query = token === undefined ? '' : `?token=${encodeURIComponent(token)}`;
      const client = openClient(`${h.wsUrl}${query}`);
      const closed = await client.closed;
      expect([name, closed.code, closed.reason, client.frames]).toEqual([name, 4001, reason, []]);
    }
    // A4's other half: 29 s past exp is inside the 30 s leeway.
    const { client, first } = await connect(
      `${h.wsUrl}?token=${await hs(valid({ exp: nowS() - 29 }))}`,
    );
    expect(first.type).toBe('rehydrate');
    await client.close();
    expect(h.db.handle.sqlite.query('SELECT count(*) AS n FROM history').get()).toEqual({ n: 0 });
  });

  test('A7 and A10: an HS token signed with the RS public key, and header-supplied keys', async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
    const pem = await exportSPKI(publicKey);
    await using h = await startRealtime({ verifier: { publicKeyPem: pem } });
    const confused = await new SignJWT(valid())
      .setProtectedHeader({ alg: 'HS256' })
      .sign(enc.encode(pem));
    await expectRefused(h, confused, 'token_invalid');
    await expectRefused(h, await hs(valid()), 'token_invalid');
    const otherKey = (await generateKeyPair('RS256')).privateKey;
    for (const header of [
      { jku: 'https://evil.test/jwks' },
      { kid: '../../dev/null' },
      { x5u: 'https://evil.test/x' },
    ]) {
      const token = await new SignJWT(valid())
        .setProtectedHeader({ alg: 'RS256', ...header })
        .sign(otherKey);
      await expectRefused(h, token, 'token_invalid');
    }
    const good = await new SignJWT(valid()).setProtectedHeader({ alg: 'RS256' }).sign(privateKey);
    const { client, first } = await connect(`${h.wsUrl}?token=${good}`);
    expect(first.type).toBe('rehydrate');
    await client.close();
  });

  test('A9: a wrong or missing aud/iss when configured', async () => {
    await using h = await startRealtime({
      verifier: { hsSecret: TEST_SECRET, issuer: 'https://id.example', audience: 'lifeline' },
    });
    const right = { iss: 'https://id.example', aud: 'lifeline' };
    await expectRefused(h, await hs(valid({ ...right, aud: 'other' })), 'token_invalid');
    await expectRefused(h, await hs(valid({ ...right, iss: 'https://evil' })), 'token_invalid');
    await expectRefused(h, await hs(valid({ iss: right.iss })), 'token_invalid');
    await expectRefused(h, await hs(valid({ aud: right.aud })), 'token_invalid');
    const { client, first } = await connect(`${h.wsUrl}?token=${await hs(valid(right))}`);
    expect(first.type).toBe('rehydrate');
    await client.close();
  });

  test('the token is taken from the Authorization header too', async () => {
    await using h = await startRealtime();
    const { client, first } = await connect(h.wsUrl, {
      headers: { authorization: `Bearer ${await h.token('u1')}` },
    });
    expect(first.type).toBe('rehydrate');
    await client.close();
  });

  test('A16: a valid token of a refused user is closed 4003 with nothing sent', async () => {
    await using h = await startRealtime({ authorize: (claims) => claims.sub !== 'banned' });
    await expectRefused(h, await h.token('banned'), 'forbidden', 4003);
    const { client } = await connect(await h.urlFor('fine'));
    await client.close();
  });

  test('A14: tokens never reach a log line; the subprotocol answer is lifeline.v1', async () => {
    const lines: string[] = [];
    const logger = createLogger({
      level: 'debug',
      format: 'json',
      sink: (line) => lines.push(line),
    });
    await using h = await startRealtime({ logger });
    const token = await h.token('u1');
    const { client } = await connect(`${h.wsUrl}?thread=t1`, {
      protocols: ['lifeline.v1', `bearer.${token}`],
    });
    expect(client.protocol).toBe('lifeline.v1');
    client.send({ type: 'auth.refresh', token: 'garbage.token.value' });
    await client.closed;
    const bad = await hs(valid({ exp: nowS() - 100 }));
    await expectRefused(h, bad, 'token_expired');
    const all = lines.join('\n');
    for (const secret of [token, bad, 'garbage.token.value']) expect(all).not.toContain(secret);
  });
});

describe('tokens on an open socket', () => {
  test('auth.refresh swaps the token and keeps the socket', async () => {
    await using h = await startRealtime();
    const { client } = await connect(await h.urlFor('u1'));
    const later = await hs(valid({ exp: nowS() + 7200 }));
    const ok = await client.request({ type: 'auth.refresh', id: 'r1', token: later });
    expect(ok).toEqual({
      type: 'auth.ok',
      id: 'r1',
      token_expires_at: new Date((nowS() + 7200) * 1000).toISOString(),
    });
    expect(await client.request({ type: 'ping' })).toEqual({ type: 'pong' });
    await client.close();
  });

  test('A15: refresh to another user closes 4003; an expired refresh closes 4001', async () => {
    await using h = await startRealtime();
    const { client } = await connect(await h.urlFor('u1'));
    client.send({ type: 'auth.refresh', token: await h.token('u2') });
    expect(await client.closed).toEqual({ code: 4003, reason: 'identity_changed' });
    const { client: second } = await connect(await h.urlFor('u1'));
    second.send({ type: 'auth.refresh', token: await hs(valid({ exp: nowS() - 60 })) });
    expect(await second.closed).toEqual({ code: 4001, reason: 'token_expired' });
  });

  test('A15: auth.expiring before exp, then 4001 token_expired at exp + leeway', async () => {
    const clock = new FakeClock(Date.now());
    await using h = await startRealtime({ clock });
    const { client } = await connect(`${h.wsUrl}?token=${await h.token('u1', 120)}`);
    clock.advance(61_000);
    h.realtime.sweep();
    expect(await client.next()).toEqual({ type: 'auth.expiring', in_s: 59 });
    clock.advance(59_000 + 29_000);
    h.realtime.sweep();
    expect(await client.request({ type: 'ping' })).toEqual({ type: 'pong' });
    clock.advance(1_000);
    h.realtime.sweep();
    expect(await client.closed).toEqual({ code: 4001, reason: 'token_expired' });
  });

  test('a refreshed token is not closed at the old exp', async () => {
    const clock = new FakeClock(Date.now());
    await using h = await startRealtime({ clock });
    const { client } = await connect(`${h.wsUrl}?token=${await h.token('u1', 120)}`);
    expect(
      (await client.request({ type: 'auth.refresh', token: await h.token('u1', 3600) })).type,
    ).toBe('auth.ok');
    clock.advance(200_000);
    h.realtime.sweep();
    expect(await client.request({ type: 'ping' })).toEqual({ type: 'pong' });
    await client.close();
  });
});
