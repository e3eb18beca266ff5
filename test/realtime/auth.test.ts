import { beforeAll, beforeEach, describe, expect, test } from 'bun:test';
import { createHmac } from 'node:crypto';
import { exportJWK, exportSPKI, generateKeyPair, type JWTPayload, SignJWT } from 'jose';
import { LifelineError } from '../../src/lib/errors.ts';
import {
  createVerifier,
  extractToken,
  mintToken,
  type Verifier,
  type VerifierOptions,
} from '../../src/realtime/auth.ts';
import { FakeClock } from '../support/clock.ts';

const SECRET = 'an-hs256-secret-of-at-least-32-bytes!!';
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A token built by hand, so headers jose would refuse to produce can be tested. */
function handMade(header: object, payload: object, secret: string | Buffer = SECRET): string {
  const signingInput = `${b64(header)}.${b64(payload)}`;
  return `${signingInput}.${createHmac('sha256', secret).update(signingInput).digest('base64url')}`;
}

let clock = new FakeClock();
beforeEach(() => {
  clock = new FakeClock();
});
const nowS = () => Math.floor(clock.wallMs() / 1000);
const claims = (extra: JWTPayload = {}): JWTPayload => ({
  sub: 'u1',
  exp: nowS() + 3600,
  ...extra,
});

async function hsToken(payload: JWTPayload, secret: string = SECRET): Promise<string> {
  return new SignJWT(payload)
    .setProtectedHeader({ alg: 'HS256' })
    .sign(new TextEncoder().encode(secret));
}

async function verifier(options: Partial<VerifierOptions> = {}): Promise<Verifier> {
  return createVerifier({ hsSecret: SECRET, leewayS: 30, clock, ...options });
}

let rsa: Awaited<ReturnType<typeof generateKeyPair>>;
let rsaPem: string;
let attacker: Awaited<ReturnType<typeof generateKeyPair>>;

beforeAll(async () => {
  rsa = await generateKeyPair('RS256', { extractable: true });
  rsaPem = await exportSPKI(rsa.publicKey);
  attacker = await generateKeyPair('RS256', { extractable: true });
});

describe('createVerifier: token table (docs/faults.md#a1 (A1–A13))', () => {
  test('A1: no token is token_invalid', async () => {
    const v = await verifier();
    expect(await v.verify(undefined)).toMatchObject({ ok: false, reason: 'token_invalid' });
    expect(await v.verify('')).toMatchObject({ ok: false, reason: 'token_invalid' });
  });

  test.each(['not.a.jwt', 'two.segments', '!!!.@@@.###', 'a.b.c.d.e', '....'])(
    'A2: malformed %j is token_invalid',
    async (token) => {
      expect(await (await verifier()).verify(token)).toMatchObject({
        ok: false,
        reason: 'token_invalid',
      });
    },
  );

  test('A3: a bad signature is token_invalid', async () => {
    const v = await verifier();
    const other = await hsToken(claims(), 'another-secret-that-is-also-32-bytes-long');
    expect(await v.verify(other)).toMatchObject({ ok: false, reason: 'token_invalid' });
    const good = await hsToken(claims());
    const flipped = `${good.slice(0, -2)}${good.endsWith('AA') ? 'BB' : 'AA'}`;
    expect(await v.verify(flipped)).toMatchObject({ ok: false, reason: 'token_invalid' });
  });

  test('A4: expired by 31 s is token_expired; by 29 s is accepted (leeway 30 s)', async () => {
    const v = await verifier();
    expect(await v.verify(await hsToken(claims({ exp: nowS() - 31 })))).toMatchObject({
      ok: false,
      reason: 'token_expired',
    });
    expect(await v.verify(await hsToken(claims({ exp: nowS() - 29 })))).toMatchObject({
      ok: true,
      userId: 'u1',
    });
  });

  test('A5: no exp, or nbf further ahead than the leeway, is token_invalid', async () => {
    const v = await verifier();
    expect(await v.verify(await hsToken({ sub: 'u1' }))).toMatchObject({ reason: 'token_invalid' });
    const early = await hsToken(claims({ nbf: nowS() + 31 }));
    expect(await v.verify(early)).toMatchObject({ ok: false, reason: 'token_invalid' });
    expect(await v.verify(await hsToken(claims({ nbf: nowS() + 29 })))).toMatchObject({ ok: true });
  });

  test.each(['none', 'None', 'NONE'])('A6: alg %s is token_invalid', async (alg) => {
    const unsigned = `${b64({ alg, typ: 'JWT' })}.${b64(claims())}.`;
    expect(await (await verifier()).verify(unsigned)).toMatchObject({
      ok: false,
      reason: 'token_invalid',
    });
  });

  test('A6: an HS256 header with an empty signature is token_invalid', async () => {
    const empty = `${b64({ alg: 'HS256' })}.${b64(claims())}.`;
    expect(await (await verifier()).verify(empty)).toMatchObject({ reason: 'token_invalid' });
  });

  test('A7: HS256 signed with the RS public PEM as secret is token_invalid, never a throw', async () => {
    const v = await verifier({ hsSecret: undefined, publicKeyPem: rsaPem });
    const confused = handMade({ alg: 'HS256', typ: 'JWT' }, claims(), Buffer.from(rsaPem));
    expect(await v.verify(confused)).toMatchObject({ ok: false, reason: 'token_invalid' });
    expect(v.algorithms).toEqual(['RS256']);
  });

  test('A8: an RS token against an HS configuration is token_invalid', async () => {
    const token = await new SignJWT(claims())
      .setProtectedHeader({ alg: 'RS256' })
      .sign(rsa.privateKey);
    expect(await (await verifier()).verify(token)).toMatchObject({
      ok: false,
      reason: 'token_invalid',
    });
    const rs = await verifier({ hsSecret: undefined, publicKeyPem: rsaPem });
    expect(await rs.verify(token)).toMatchObject({ ok: true, userId: 'u1' });
  });

  test.each([
    ['wrong aud', { aud: 'other', iss: 'lifeline-test' }],
    ['missing aud', { iss: 'lifeline-test' }],
    ['wrong iss', { aud: 'chat', iss: 'evil' }],
    ['missing iss', { aud: 'chat' }],
  ])('A9: %s is token_invalid when configured', async (_name, extra) => {
    const v = await verifier({ issuer: 'lifeline-test', audience: 'chat' });
    expect(await v.verify(await hsToken(claims(extra)))).toMatchObject({ reason: 'token_invalid' });
    const right = await hsToken(claims({ aud: 'chat', iss: 'lifeline-test' }));
    expect(await v.verify(right)).toMatchObject({ ok: true });
  });

  test('A10: a key named in the token header (jwk, jku, x5u, kid) is never used', async () => {
    const v = await verifier({ hsSecret: undefined, publicKeyPem: rsaPem });
    const jwk = await exportJWK(attacker.publicKey);
    for (const header of [
      { alg: 'RS256', jwk },
      { alg: 'RS256', jku: 'https://evil.test/jwks.json' },
      { alg: 'RS256', x5u: 'https://evil.test/cert.pem' },
      { alg: 'RS256', kid: '../../dev/null' },
    ]) {
      const forged = await new SignJWT(claims())
        .setProtectedHeader(header)
        .sign(attacker.privateKey);
      expect(await v.verify(forged)).toMatchObject({ ok: false, reason: 'token_invalid' });
    }
  });

  test('A10: an unknown crit header is token_invalid even with a good signature', async () => {
    const token = handMade({ alg: 'HS256', crit: ['x-evil'], 'x-evil': 1 }, claims());
    expect(await (await verifier()).verify(token)).toMatchObject({ reason: 'token_invalid' });
  });

  test('A10: with a JWKS, kid selects only among the configured keys', async () => {
    const good = { ...(await exportJWK(rsa.publicKey)), kid: 'k1', alg: 'RS256' };
    const v = await verifier({ hsSecret: undefined, jwksJson: { keys: [good] } });
    const signed = (kid: string, key: CryptoKey) =>
      new SignJWT(claims()).setProtectedHeader({ alg: 'RS256', kid }).sign(key);
    expect(await v.verify(await signed('k1', rsa.privateKey))).toMatchObject({ ok: true });
    expect(await v.verify(await signed('k2', attacker.privateKey))).toMatchObject({ ok: false });
    expect(await v.verify(await signed('k1', attacker.privateKey))).toMatchObject({ ok: false });
  });

  test('A11: an HS secret shorter than 32 bytes is refused at load', async () => {
    const weak = verifier({ hsSecret: 'short' });
    await expect(weak).rejects.toBeInstanceOf(LifelineError);
    await expect(weak).rejects.toMatchObject({ code: 'auth_key_weak' });
  });

  test('A12: a huge token is token_invalid without reaching jose', async () => {
    const v = await verifier();
    const huge = `${'a'.repeat(1_000_000)}.b.c`;
    expect(await v.verify(huge)).toMatchObject({ ok: false, reason: 'token_invalid' });
    expect(await v.verify('x'.repeat(100_000))).toMatchObject({
      ok: false,
      reason: 'token_invalid',
    });
    expect(v.stats().verified).toBe(0);
  });

  test.each([
    ['__proto__', '__proto__'],
    ['constructor', 'constructor'],
    ['empty', ''],
    ['10 kB long', 'u'.repeat(10_000)],
    ['a slash', 'u/1'],
    ['a number', 42],
  ])('A13: sub %s is token_invalid', async (_name, sub) => {
    const v = await verifier({ maxTokenBytes: 65_536 });
    const token = await hsToken({ exp: nowS() + 60, sub } as JWTPayload);
    expect(await v.verify(token)).toMatchObject({ ok: false, reason: 'token_invalid' });
  });
});

describe('createVerifier: key types', () => {
  test.each([
    ['ES256', 'ES256'],
    ['EdDSA', 'EdDSA'],
    ['RS256', 'RS256'],
  ] as const)('pins %s for its PEM key type', async (alg, expected) => {
    const pair = await generateKeyPair(alg, { extractable: true });
    const v = await verifier({
      hsSecret: undefined,
      publicKeyPem: await exportSPKI(pair.publicKey),
    });
    expect(v.algorithms).toEqual([expected]);
    const token = await new SignJWT(claims()).setProtectedHeader({ alg }).sign(pair.privateKey);
    expect(await v.verify(token)).toMatchObject({ ok: true, userId: 'u1' });
  });

  test.each([
    ['no key', {}, 'auth_key_missing'],
    ['two keys', { publicKeyPem: 'x' }, 'auth_key_ambiguous'],
    ['a junk PEM', { hsSecret: undefined, publicKeyPem: 'not a pem' }, 'auth_key_invalid'],
    [
      'a JWKS of symmetric keys',
      { hsSecret: undefined, jwksJson: { keys: [{ kty: 'oct', k: 'abc' }] } },
      'auth_key_invalid',
    ],
    ['a JWKS that is not one', { hsSecret: undefined, jwksJson: [null] }, 'auth_key_invalid'],
  ])('refuses %s', async (_name, options, code) => {
    const base = _name === 'no key' ? { hsSecret: undefined } : {};
    await expect(verifier({ ...base, ...options })).rejects.toMatchObject({ code });
  });
});

describe('createVerifier: cache of verified tokens', () => {
  test('a cache hit skips jose', async () => {
    const v = await verifier();
    const token = await hsToken(claims());
    for (let i = 0; i < 5; i += 1) expect(await v.verify(token)).toMatchObject({ ok: true });
    expect(v.stats()).toMatchObject({ verified: 1, cacheHits: 4, cached: 1 });
  });

  test('refusals are not cached', async () => {
    const v = await verifier();
    const bad = await hsToken(claims(), 'another-secret-that-is-also-32-bytes-long');
    await v.verify(bad);
    await v.verify(bad);
    expect(v.stats()).toMatchObject({ verified: 2, cacheHits: 0, rejected: 2, cached: 0 });
  });

  test('drops an entry at exp, then jose decides with the leeway', async () => {
    const v = await verifier();
    const token = await hsToken(claims({ exp: nowS() + 60 }));
    expect(await v.verify(token)).toMatchObject({ ok: true });
    clock.advance(60_000);
    expect(await v.verify(token)).toMatchObject({ ok: true });
    expect(v.stats()).toMatchObject({ verified: 2, cacheHits: 0 });
    clock.advance(31_000);
    expect(await v.verify(token)).toMatchObject({ ok: false, reason: 'token_expired' });
  });

  test('a wall-clock jump past exp expires cached tokens too (docs/faults.md#p10)', async () => {
    const v = await verifier();
    const token = await hsToken(claims({ exp: nowS() + 60 }));
    await v.verify(token);
    clock.setWallMs(clock.wallMs() + 86_400_000);
    expect(await v.verify(token)).toMatchObject({ ok: false, reason: 'token_expired' });
  });

  test('evicts the least recently used token when full', async () => {
    const v = await verifier({ cacheSize: 2 });
    const [a, b, c] = await Promise.all(['a', 'b', 'c'].map((sub) => hsToken(claims({ sub }))));
    await v.verify(a as string);
    await v.verify(b as string);
    await v.verify(a as string);
    await v.verify(c as string);
    expect(v.stats()).toMatchObject({ verified: 3, cacheHits: 1, cached: 2 });
    await v.verify(a as string);
    await v.verify(b as string);
    expect(v.stats()).toMatchObject({ verified: 4, cacheHits: 2 });
  });
});

describe('mintToken', () => {
  test('mints a token the verifier accepts, with iss and aud', async () => {
    const token = await mintToken({
      secret: SECRET,
      userId: 'u-9',
      ttlS: 3600,
      issuer: 'i',
      audience: 'a',
      clock,
    });
    const v = await verifier({ issuer: 'i', audience: 'a' });
    expect(await v.verify(token)).toMatchObject({
      ok: true,
      userId: 'u-9',
      expMs: clock.wallMs() + 3_600_000,
    });
  });

  test('refuses a user id outside the id rule', async () => {
    await expect(
      mintToken({ secret: SECRET, userId: '__proto__', ttlS: 60 }),
    ).rejects.toMatchObject({ code: 'bad_user_id' });
    await expect(mintToken({ secret: SECRET, userId: 'u1', ttlS: 0 })).rejects.toMatchObject({
      code: 'bad_ttl',
    });
  });
});

describe('extractToken', () => {
  test.each([
    ['Authorization header', { authorization: 'Bearer h.h.h' }, { token: 'h.h.h', protocols: [] }],
    ['lower-case scheme', { authorization: 'bearer h.h.h' }, { token: 'h.h.h', protocols: [] }],
    [
      'subprotocol entry',
      { subprotocolHeader: 'lifeline.v1, bearer.s.s.s' },
      { token: 's.s.s', protocols: ['lifeline.v1'] },
    ],
    ['query', { queryToken: 'q.q.q' }, { token: 'q.q.q', protocols: [] }],
    [
      'header before the others',
      { authorization: 'Bearer h', subprotocolHeader: 'bearer.s', queryToken: 'q' },
      { token: 'h', protocols: [] },
    ],
    [
      'subprotocol before the query',
      { subprotocolHeader: 'bearer.s', queryToken: 'q' },
      { token: 's', protocols: [] },
    ],
    ['a Basic header is no token', { authorization: 'Basic abc' }, { protocols: [] }],
    [
      'an empty bearer entry is no token',
      { subprotocolHeader: 'bearer., lifeline.v1' },
      { protocols: ['lifeline.v1'] },
    ],
    ['nothing', {}, { protocols: [] }],
  ])('%s', (_name, sources, expected) => {
    expect(extractToken(sources)).toEqual(expected);
  });
});
