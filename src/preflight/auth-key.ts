/**
 * @module The auth key material check (docs/design.md#configuration `auth.*`, §3, §8.12): the
 * configured HS256 secret, PEM public key or JWKS file loads, is strong enough, and matches the
 * configured algorithm. Secrets never reach a detail line; only their sizes do.
 */
import { createPublicKey, type JsonWebKeyInput, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createLocalJWKSet, importSPKI, type JSONWebKeySet, type JWK } from 'jose';
import { describeError } from '../lib/errors.ts';
import { utf8Bytes } from '../lib/text.ts';
import { type Check, type CheckOutcome, fail, pass, warn } from './check.ts';

/** Name of the check in reports and JSON. */
const AUTH_KEY_CHECK_NAME = 'auth-key';

/** Shortest HS256 secret accepted, in bytes (docs/design.md#token-rules; RFC 7518 §3.2). */
const MIN_HS_SECRET_BYTES = 32;
/** Shortest RSA modulus accepted, in bits (jose refuses shorter keys when verifying). */
const MIN_RSA_MODULUS_BITS = 2048;

/** The `auth.*` settings this check reads; at most one of the three keys may be set. */
export interface AuthKeyCheckOptions {
  /** `auth.jwt_secret`: the HS256 secret. */
  jwtSecret?: string;
  /** `auth.jwt_public_key`: PEM text, or the path of a PEM file. */
  jwtPublicKey?: string;
  /** `auth.jwks_file`: path of a JWKS JSON file. */
  jwksFile?: string;
  /** A configured algorithm, if any; otherwise it is inferred from the key. */
  algorithm?: string;
}

/** Algorithms lifeline verifies (docs/design.md#configuration). */
type JwtAlgorithm = 'HS256' | 'RS256' | 'ES256' | 'EdDSA';

/** Outcome of reading a key's algorithm: the algorithm, or why the key cannot be used. */
type InferredAlgorithm = { alg: JwtAlgorithm } | { problem: string };

/** Builds the auth key material check. */
export function authKeyCheck(input: AuthKeyCheckOptions): Check {
  return { name: AUTH_KEY_CHECK_NAME, run: () => checkAuthKey(input) };
}

async function checkAuthKey(input: AuthKeyCheckOptions): Promise<CheckOutcome> {
  const set = (['jwtSecret', 'jwtPublicKey', 'jwksFile'] as const).filter(
    (key) => (input[key] ?? '').trim() !== '',
  );
  if (set.length > 1) {
    return fail(
      `more than one key is set (${set.map(configKey).join(', ')})`,
      'set exactly one of auth.jwt_secret, auth.jwt_public_key, auth.jwks_file: the algorithm is pinned to that key',
    );
  }
  if (input.jwtSecret?.trim()) return checkSecret(input.jwtSecret, input.algorithm);
  if (input.jwtPublicKey?.trim()) return checkPublicKey(input.jwtPublicKey, input.algorithm);
  if (input.jwksFile?.trim()) return checkJwksFile(input.jwksFile, input.algorithm);
  return pass(
    'no key set: a random HS256 secret is generated once and kept in the database (dev default)',
  );
}

function configKey(key: 'jwtSecret' | 'jwtPublicKey' | 'jwksFile'): string {
  return {
    jwtSecret: 'auth.jwt_secret',
    jwtPublicKey: 'auth.jwt_public_key',
    jwksFile: 'auth.jwks_file',
  }[key];
}

function checkSecret(secret: string, algorithm: string | undefined): CheckOutcome {
  if (algorithm !== undefined && algorithm !== 'HS256') {
    return fail(
      `auth.jwt_secret is an HS256 secret but the configured algorithm is ${algorithm}`,
      'for RS256/ES256/EdDSA set auth.jwt_public_key instead of auth.jwt_secret',
    );
  }
  const bytes = utf8Bytes(secret);
  if (bytes < MIN_HS_SECRET_BYTES) {
    return fail(
      `auth.jwt_secret is ${bytes} bytes; HS256 needs at least ${MIN_HS_SECRET_BYTES}`,
      'generate a longer one, e.g. `openssl rand -base64 48`, and set it as auth.jwt_secret',
    );
  }
  return pass(`HS256 secret (${bytes} bytes)`);
}

async function checkPublicKey(value: string, algorithm: string | undefined): Promise<CheckOutcome> {
  const isInline = value.trimStart().startsWith('-----BEGIN');
  const where = isInline ? 'auth.jwt_public_key' : value;
  const pem = isInline ? value : await readFile(value, 'utf8').catch((e: unknown) => e as Error);
  if (pem instanceof Error) {
    return fail(
      `cannot read ${where}: ${describeError(pem)}`,
      'set auth.jwt_public_key to PEM text or to the path of a readable PEM file',
    );
  }
  const inferred = inferPemAlgorithm(pem);
  if ('problem' in inferred) {
    return fail(
      `${where}: ${inferred.problem}`,
      'give an SPKI public key (-----BEGIN PUBLIC KEY-----); from a certificate: openssl x509 -pubkey -noout -in cert.pem',
    );
  }
  const mismatch = algorithmMismatch(inferred.alg, algorithm);
  if (mismatch !== undefined) return mismatch;
  try {
    await importSPKI(pem, inferred.alg);
  } catch (error) {
    return fail(
      `${where}: jose cannot import it: ${describeError(error)}`,
      'give an RSA ≥ 2048, EC P-256 or Ed25519 public key',
    );
  }
  return pass(`${inferred.alg} public key from ${where}`);
}

/**
 * Reads a PEM public key and returns the one algorithm lifeline verifies it with: RSA → RS256,
 * EC P-256 → ES256, Ed25519 → EdDSA. Private keys and anything else are refused with a reason.
 */
export function inferPemAlgorithm(pem: string): InferredAlgorithm {
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)) {
    return { problem: 'is a private key; the daemon needs only the public key' };
  }
  if (!pem.includes('-----BEGIN PUBLIC KEY-----')) return { problem: 'is not a PEM public key' };
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch (error) {
    return { problem: `is not a valid PEM public key (${describeError(error)})` };
  }
  return inferKeyObjectAlgorithm(key);
}

function inferKeyObjectAlgorithm(key: KeyObject): InferredAlgorithm {
  const details = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case 'rsa': {
      const bits = details.modulusLength ?? 0;
      if (bits < MIN_RSA_MODULUS_BITS) {
        return { problem: `RSA key of ${bits} bits; at least ${MIN_RSA_MODULUS_BITS} are needed` };
      }
      return { alg: 'RS256' };
    }
    case 'ec':
      if (details.namedCurve === 'prime256v1') return { alg: 'ES256' };
      return {
        problem: `EC curve ${details.namedCurve ?? '?'} is not supported; use P-256 (ES256)`,
      };
    case 'ed25519':
      return { alg: 'EdDSA' };
    default:
      return { problem: `key type ${key.asymmetricKeyType ?? '?'} is not supported` };
  }
}

function algorithmMismatch(
  actual: JwtAlgorithm,
  configured: string | undefined,
): CheckOutcome | undefined {
  if (configured === undefined || configured === actual) return undefined;
  return fail(
    `the configured algorithm ${configured} does not match the key, which is for ${actual}`,
    `set the algorithm to ${actual}, or give a key made for ${configured}`,
  );
}

async function checkJwksFile(path: string, algorithm: string | undefined): Promise<CheckOutcome> {
  const fix = 'auth.jwks_file must name a JSON file of the form {"keys":[{…public JWK…}]}';
  let jwks: JSONWebKeySet;
  try {
    jwks = JSON.parse(await readFile(path, 'utf8')) as JSONWebKeySet;
    createLocalJWKSet(jwks);
  } catch (error) {
    return fail(`cannot load ${path}: ${describeError(error)}`, fix);
  }
  const verdicts = jwks.keys.map((jwk, index) => ({
    label: jwkLabel(jwk, index),
    ...inferJwkAlgorithm(jwk),
  }));
  const usable = verdicts.flatMap((v) => ('alg' in v ? [v.alg] : []));
  const problems = verdicts.flatMap((v) => ('problem' in v ? [`${v.label}: ${v.problem}`] : []));
  if (usable.length === 0) return fail(`${path} has no usable key`, fix, problems);
  if (algorithm !== undefined && !usable.includes(algorithm as JwtAlgorithm)) {
    return fail(
      `${path} has no key for the configured algorithm ${algorithm}`,
      `add a ${algorithm} key, or change the algorithm`,
    );
  }
  const summary = `${usable.length} usable key${usable.length === 1 ? '' : 's'} in ${path} (${[...new Set(usable)].join(', ')})`;
  if (problems.length > 0) {
    return warn(
      `${summary}; ${problems.length} unusable`,
      'fix or remove the keys listed above',
      problems,
    );
  }
  if (jwks.keys.some((jwk) => jwk.kty !== 'oct' && jwk.d !== undefined)) {
    return warn(
      `${summary}; it also holds private key material`,
      `keep only public keys in ${path}`,
    );
  }
  return pass(summary);
}

function jwkLabel(jwk: JWK, index: number): string {
  return jwk.kid === undefined ? `key #${index + 1}` : `key "${jwk.kid}"`;
}

/** Returns the algorithm a JWK is used with (its `alg`, or one inferred from its type), or why it is unusable. */
function inferJwkAlgorithm(jwk: JWK): InferredAlgorithm {
  if (jwk.kty === 'oct') {
    const bytes = typeof jwk.k === 'string' ? Buffer.from(jwk.k, 'base64url').length : 0;
    if (bytes < MIN_HS_SECRET_BYTES)
      return { problem: `HS256 key of ${bytes} bytes; at least ${MIN_HS_SECRET_BYTES} are needed` };
    return matchAlg(jwk, 'HS256');
  }
  let key: KeyObject;
  try {
    key = createPublicKey({ key: jwk as JsonWebKeyInput['key'], format: 'jwk' });
  } catch (error) {
    return { problem: `cannot be imported (${describeError(error)})` };
  }
  const inferred = inferKeyObjectAlgorithm(key);
  return 'alg' in inferred ? matchAlg(jwk, inferred.alg) : inferred;
}

function matchAlg(jwk: JWK, alg: JwtAlgorithm): InferredAlgorithm {
  if (jwk.alg === undefined || jwk.alg === alg) return { alg };
  return { problem: `"alg" is ${jwk.alg} but the key is for ${alg}` };
}
