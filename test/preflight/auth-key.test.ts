import { afterEach, describe, expect, test } from 'bun:test';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import {
  type AuthKeyCheckOptions,
  authKeyCheck,
  inferPemAlgorithm,
} from '../../src/preflight/auth-key.ts';
import type { CheckOutcome } from '../../src/preflight/check.ts';
import { type TempDir, tempDir } from '../support/temp.ts';

const ctx = { strict: false, signal: new AbortController().signal };
const check = (input: AuthKeyCheckOptions): Promise<CheckOutcome> => authKeyCheck(input).run(ctx);

const dirs: TempDir[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) dir[Symbol.dispose]();
});
function writeTemp(name: string, text: string): string {
  const dir = tempDir('auth-key');
  dirs.push(dir);
  writeFileSync(dir.join(name), text);
  return dir.join(name);
}

function generate(
  type: 'rsa' | 'ec' | 'ed25519',
  options: KeyOptions,
): { publicKey: KeyObject; privateKey: KeyObject } {
  if (type === 'rsa')
    return generateKeyPairSync('rsa', { modulusLength: options.modulusLength ?? 2048 });
  if (type === 'ec')
    return generateKeyPairSync('ec', { namedCurve: options.namedCurve ?? 'P-256' });
  return generateKeyPairSync('ed25519');
}

interface KeyOptions {
  modulusLength?: number;
  namedCurve?: string;
}

function keyPair(type: 'rsa' | 'ec' | 'ed25519', options: KeyOptions = {}) {
  const { publicKey, privateKey } = generate(type, options);
  return {
    pem: publicKey.export({ type: 'spki', format: 'pem' }) as string,
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    jwk: publicKey.export({ format: 'jwk' }),
    privateJwk: privateKey.export({ format: 'jwk' }),
  };
}

const STRONG_SECRET = 'x'.repeat(32);

describe('authKeyCheck: HS256 secret', () => {
  test('fails a 10-byte secret, saying how to make a longer one', async () => {
    const outcome = await check({ jwtSecret: '0123456789' });
    expect(authKeyCheck({}).name).toBe('auth-key');
    expect(outcome).toMatchObject({
      status: 'fail',
      detail: 'auth.jwt_secret is 10 bytes; HS256 needs at least 32',
    });
    expect(outcome.fix).toContain('openssl rand');
    expect(outcome.detail).not.toContain('0123456789');
  });

  test('counts UTF-8 bytes, not characters', async () => {
    expect((await check({ jwtSecret: 'é'.repeat(16) })).status).toBe('ok');
    expect((await check({ jwtSecret: 'é'.repeat(15) })).status).toBe('fail');
  });

  test('passes a 32-byte secret without printing it', async () => {
    expect(await check({ jwtSecret: STRONG_SECRET })).toEqual({
      status: 'ok',
      detail: 'HS256 secret (32 bytes)',
    });
  });

  test('fails a secret whose configured algorithm is not HS256', async () => {
    const outcome = await check({ jwtSecret: STRONG_SECRET, algorithm: 'RS256' });
    expect(outcome.status).toBe('fail');
    expect(outcome.fix).toContain('auth.jwt_public_key');
  });
});

describe('authKeyCheck: key selection', () => {
  test('fails when more than one key is set', async () => {
    const outcome = await check({ jwtSecret: STRONG_SECRET, jwksFile: '/x.json' });
    expect(outcome).toMatchObject({
      status: 'fail',
      detail: 'more than one key is set (auth.jwt_secret, auth.jwks_file)',
    });
    expect(outcome.fix).toContain('set exactly one');
  });

  test('passes with no key at all (the generated dev secret)', async () => {
    expect((await check({})).status).toBe('ok');
  });
});

describe('authKeyCheck: PEM public key', () => {
  test('fails a public key that is not PEM', async () => {
    const path = writeTemp('key.pem', 'this is not a key\n');
    const outcome = await check({ jwtPublicKey: path });
    expect(outcome).toMatchObject({ status: 'fail', detail: `${path}: is not a PEM public key` });
    expect(outcome.fix).toContain('-----BEGIN PUBLIC KEY-----');
  });

  test('fails a PEM block of garbage', async () => {
    const pem = '-----BEGIN PUBLIC KEY-----\nAAAAgarbage\n-----END PUBLIC KEY-----\n';
    const outcome = await check({ jwtPublicKey: pem });
    expect(outcome.status).toBe('fail');
    expect(outcome.detail).toStartWith('auth.jwt_public_key: is not a valid PEM public key');
  });

  test('refuses a private key', async () => {
    const outcome = await check({ jwtPublicKey: keyPair('ed25519').privatePem });
    expect(outcome.status).toBe('fail');
    expect(outcome.detail).toContain('is a private key');
  });

  test('fails a missing key file, naming it', async () => {
    const outcome = await check({ jwtPublicKey: '/nonexistent/key.pem' });
    expect(outcome.status).toBe('fail');
    expect(outcome.detail).toStartWith('cannot read /nonexistent/key.pem');
    expect(outcome.fix).toContain('auth.jwt_public_key');
  });

  test.each([
    ['rsa', { modulusLength: 2048 }, 'RS256'],
    ['ec', { namedCurve: 'P-256' }, 'ES256'],
    ['ed25519', {}, 'EdDSA'],
  ] as const)('infers and loads a %s key as %s', async (type, options, alg) => {
    const { pem } = keyPair(type, options);
    expect(inferPemAlgorithm(pem)).toEqual({ alg });
    expect(await check({ jwtPublicKey: pem })).toEqual({
      status: 'ok',
      detail: `${alg} public key from auth.jwt_public_key`,
    });
    expect((await check({ jwtPublicKey: writeTemp('k.pem', pem), algorithm: alg })).status).toBe(
      'ok',
    );
  });

  test('fails when the configured algorithm does not match the key', async () => {
    const outcome = await check({ jwtPublicKey: keyPair('ed25519').pem, algorithm: 'RS256' });
    expect(outcome).toMatchObject({ status: 'fail' });
    expect(outcome.detail).toContain('does not match the key, which is for EdDSA');
    expect(outcome.fix).toContain('set the algorithm to EdDSA');
  });

  test('refuses an RSA key under 2048 bits and an unsupported curve', async () => {
    const rsa = await check({ jwtPublicKey: keyPair('rsa', { modulusLength: 1024 }).pem });
    expect(rsa.detail).toContain('RSA key of 1024 bits');
    const p384 = await check({ jwtPublicKey: keyPair('ec', { namedCurve: 'P-384' }).pem });
    expect(p384.detail).toContain('EC curve secp384r1 is not supported');
    expect([rsa.status, p384.status]).toEqual(['fail', 'fail']);
  });
});

describe('authKeyCheck: JWKS file', () => {
  test('fails a JWKS file of garbage', async () => {
    const path = writeTemp('jwks.json', '{{{ not json');
    const outcome = await check({ jwksFile: path });
    expect(outcome.status).toBe('fail');
    expect(outcome.detail).toStartWith(`cannot load ${path}`);
    expect(outcome.fix).toContain('{"keys":[');
  });

  test('fails JSON that is not a key set', async () => {
    const outcome = await check({ jwksFile: writeTemp('jwks.json', '{"keys": 3}') });
    expect(outcome.status).toBe('fail');
  });

  test('fails a key set whose only key is broken, listing it', async () => {
    const path = writeTemp(
      'jwks.json',
      JSON.stringify({ keys: [{ kty: 'RSA', kid: 'k1', n: 'abc', e: 'AQAB' }] }),
    );
    const outcome = await check({ jwksFile: path });
    expect(outcome).toMatchObject({ status: 'fail', detail: `${path} has no usable key` });
    expect(outcome.items?.[0]).toStartWith('key "k1": ');
  });

  test('passes a set of public keys and names their algorithms', async () => {
    const ec = { ...keyPair('ec', { namedCurve: 'P-256' }).jwk, kid: 'a' };
    const ed = { ...keyPair('ed25519').jwk, kid: 'b' };
    const path = writeTemp('jwks.json', JSON.stringify({ keys: [ec, ed] }));
    expect(await check({ jwksFile: path })).toEqual({
      status: 'ok',
      detail: `2 usable keys in ${path} (ES256, EdDSA)`,
    });
    expect((await check({ jwksFile: path, algorithm: 'RS256' })).status).toBe('fail');
  });

  test('warns about unusable keys next to usable ones and about private material', async () => {
    const good = keyPair('ed25519');
    const short = { kty: 'oct', kid: 'short', k: Buffer.from('tooshort').toString('base64url') };
    const mixed = await check({
      jwksFile: writeTemp('a.json', JSON.stringify({ keys: [good.jwk, short] })),
    });
    expect(mixed).toMatchObject({
      status: 'warn',
      items: ['key "short": HS256 key of 8 bytes; at least 32 are needed'],
    });
    const priv = await check({
      jwksFile: writeTemp('b.json', JSON.stringify({ keys: [good.privateJwk] })),
    });
    expect(priv.status).toBe('warn');
    expect(priv.fix).toContain('keep only public keys');
  });
});
