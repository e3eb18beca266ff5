/**
 * @module Token verification for the WebSocket (docs/design.md#websocket, #token-rules;
 * docs/faults.md#a1 (A1–A13); RFC 8725). The algorithm is pinned to the configured key, the key
 * never comes from the token, every failure is a value (`token_invalid` / `token_expired`, close
 * 4001), and a bounded cache of verified tokens lets a reconnect storm verify each distinct token
 * once (docs/runtime.md#connect-budget).
 */
import { createPublicKey } from 'node:crypto';
import {
  createLocalJWKSet,
  importSPKI,
  type JSONWebKeySet,
  type JWK,
  type JWTPayload,
  type JWTVerifyGetKey,
  jwtVerify,
  SignJWT,
} from 'jose';
import { type Clock, systemClock } from '../lib/clock.ts';
import { describeError, LifelineError } from '../lib/errors.ts';
import { utf8Bytes } from '../lib/text.ts';
import { BEARER_PROTOCOL_PREFIX, isAcceptableId, type TokenFailure } from './protocol.ts';

/** Smallest HS256 secret accepted, in bytes (docs/design.md#token-rules, RFC 8725 §3.5). */
const MIN_HS_SECRET_BYTES = 32;
/** Longest token verified, in UTF-8 bytes (docs/design.md#ids-and-limits). */
const DEFAULT_MAX_TOKEN_BYTES = 8_192;
/** Default number of verified tokens kept. */
const DEFAULT_TOKEN_CACHE_SIZE = 10_000;

/** Key material and claim rules; exactly one of `hsSecret`, `publicKeyPem`, `jwksJson`. */
export interface VerifierOptions {
  /** HS256 secret: bytes, or a string taken as its UTF-8 bytes; at least 32 bytes. */
  hsSecret?: Uint8Array | string;
  /** An SPKI public key: RSA → RS256, EC P-256/384/521 → ES256/384/512, Ed25519 → EdDSA. */
  publicKeyPem?: string;
  /** A JWKS document; `kid` only selects among these keys. */
  jwksJson?: unknown;
  issuer?: string;
  audience?: string;
  /** Tolerance for `exp` and `nbf`, in seconds (auth.leeway_s). */
  leewayS: number;
  maxTokenBytes?: number;
  /** Verified tokens kept at most; 0 turns the cache off. */
  cacheSize?: number;
  clock?: Clock;
}

/** Outcome of {@link Verifier.verify}; `detail` is for debug logs and never holds the token. */
export type VerifyResult =
  | { ok: true; userId: string; expMs: number; claims: Readonly<JWTPayload> }
  | { ok: false; reason: TokenFailure; detail: string };

/** Counters for metrics and tests. */
interface VerifierStats {
  /** Tokens that went through jose. */
  verified: number;
  /** Tokens answered from the cache. */
  cacheHits: number;
  /** Tokens refused, for any reason. */
  rejected: number;
  /** Tokens held in the cache now. */
  cached: number;
}

/** Verifies bearer tokens; never throws. */
export interface Verifier {
  verify(token: string | undefined): Promise<VerifyResult>;
  /** The pinned algorithms, for `lifeline check` and logs. */
  readonly algorithms: readonly string[];
  stats(): VerifierStats;
}

type KeySource = { key: CryptoKey | Uint8Array | JWTVerifyGetKey; algorithms: string[] };

/**
 * Loads the key material and returns a verifier pinned to it.
 * @throws LifelineError `auth_key_missing`, `auth_key_ambiguous`, `auth_key_weak` or
 *   `auth_key_invalid` when the configured key cannot be used (a preflight failure).
 */
export async function createVerifier(options: VerifierOptions): Promise<Verifier> {
  const source = await loadKey(options);
  const clock = options.clock ?? systemClock;
  const maxTokenBytes = options.maxTokenBytes ?? DEFAULT_MAX_TOKEN_BYTES;
  const cache = new TokenCache(options.cacheSize ?? DEFAULT_TOKEN_CACHE_SIZE);
  const counts = { verified: 0, cacheHits: 0, rejected: 0 };
  const reject = (reason: TokenFailure, detail: string): VerifyResult => {
    counts.rejected += 1;
    return { ok: false, reason, detail };
  };

  async function verify(token: string | undefined): Promise<VerifyResult> {
    if (typeof token !== 'string' || token.length === 0) return reject('token_invalid', 'no token');
    if (token.length > maxTokenBytes || utf8Bytes(token) > maxTokenBytes) {
      return reject('token_invalid', `token longer than ${maxTokenBytes} bytes`);
    }
    const hit = cache.get(token, clock.wallMs());
    if (hit !== undefined) {
      counts.cacheHits += 1;
      return hit;
    }
    counts.verified += 1;
    const outcome = await verifyWithJose(token, source, options, clock);
    if (!outcome.ok) return reject(outcome.reason, outcome.detail);
    cache.set(token, outcome);
    return outcome;
  }

  return {
    verify,
    algorithms: source.algorithms,
    stats: () => ({ ...counts, cached: cache.size }),
  };
}

async function verifyWithJose(
  token: string,
  source: KeySource,
  options: VerifierOptions,
  clock: Clock,
): Promise<VerifyResult> {
  let payload: JWTPayload;
  try {
    const verified = await jwtVerify(token, source.key as CryptoKey, {
      algorithms: source.algorithms,
      clockTolerance: options.leewayS,
      currentDate: new Date(clock.wallMs()),
      requiredClaims: ['exp', 'sub'],
      ...(options.issuer === undefined ? {} : { issuer: options.issuer }),
      ...(options.audience === undefined ? {} : { audience: options.audience }),
    });
    payload = verified.payload;
  } catch (error) {
    // Every exception, JOSEError or not (a key-confusion attempt raises a plain TypeError), is a
    // refusal, never a crash or a 1011 (docs/faults.md#a7).
    const code = (error as { code?: unknown } | null)?.code;
    const reason = code === 'ERR_JWT_EXPIRED' ? 'token_expired' : 'token_invalid';
    return { ok: false, reason, detail: typeof code === 'string' ? code : describeError(error) };
  }
  if (!isAcceptableId(payload.sub)) {
    return { ok: false, reason: 'token_invalid', detail: 'sub is not a valid user id' };
  }
  return { ok: true, userId: payload.sub, expMs: (payload.exp as number) * 1000, claims: payload };
}

/**
 * Verified tokens by the whole token string, least recently used first. An entry is dropped once
 * the wall clock reaches the token's `exp`; after that jose decides again (leeway included), so a
 * cached answer is never more permissive than jose's.
 */
class TokenCache {
  private readonly entries = new Map<string, VerifyResult & { ok: true }>();

  constructor(private readonly capacity: number) {}

  get size(): number {
    return this.entries.size;
  }

  get(token: string, nowWallMs: number): (VerifyResult & { ok: true }) | undefined {
    const entry = this.entries.get(token);
    if (entry === undefined) return undefined;
    this.entries.delete(token);
    if (nowWallMs >= entry.expMs) return undefined;
    this.entries.set(token, entry);
    return entry;
  }

  set(token: string, entry: VerifyResult & { ok: true }): void {
    if (this.capacity <= 0) return;
    if (this.entries.size >= this.capacity) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(token, entry);
  }
}

async function loadKey(options: VerifierOptions): Promise<KeySource> {
  const given = [options.hsSecret, options.publicKeyPem, options.jwksJson].filter(
    (value) => value !== undefined,
  ).length;
  if (given === 0) {
    throw new LifelineError('auth_key_missing', 'no token key is configured', {
      fix: 'set auth.jwt_secret, auth.jwt_public_key or auth.jwks_file',
    });
  }
  if (given > 1) {
    throw new LifelineError('auth_key_ambiguous', 'more than one token key is configured', {
      fix: 'set only one of auth.jwt_secret, auth.jwt_public_key, auth.jwks_file',
    });
  }
  if (options.hsSecret !== undefined) return await loadSecret(options.hsSecret);
  if (options.publicKeyPem !== undefined) return loadPublicKey(options.publicKeyPem);
  return loadJwks(options.jwksJson);
}

async function loadSecret(secret: Uint8Array | string): Promise<KeySource> {
  const bytes = typeof secret === 'string' ? new TextEncoder().encode(secret) : secret;
  if (bytes.byteLength < MIN_HS_SECRET_BYTES) {
    throw new LifelineError(
      'auth_key_weak',
      `auth.jwt_secret is ${bytes.byteLength} bytes; HS256 needs at least ${MIN_HS_SECRET_BYTES}`,
      { fix: 'generate one with: openssl rand -base64 48' },
    );
  }
  // Imported once as a non-extractable CryptoKey: given raw bytes, jose imports the key again on
  // every verification, a cost paid by every connect of a reconnect storm.
  const key = await crypto.subtle.importKey(
    'raw',
    new Uint8Array(bytes),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['verify'],
  );
  return { key, algorithms: ['HS256'] };
}

/** The one algorithm each public key type is used with (RFC 8725 §3.1). */
function algorithmOfPem(pem: string): string {
  const key = createPublicKey(pem);
  const type = key.asymmetricKeyType;
  if (type === 'rsa') return 'RS256';
  if (type === 'ed25519') return 'EdDSA';
  if (type === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    const byCurve: Record<string, string> = {
      prime256v1: 'ES256',
      secp384r1: 'ES384',
      secp521r1: 'ES512',
    };
    const alg = curve === undefined ? undefined : byCurve[curve];
    if (alg !== undefined) return alg;
  }
  throw new Error(`unsupported public key type ${type ?? 'unknown'}`);
}

async function loadPublicKey(pem: string): Promise<KeySource> {
  try {
    const alg = algorithmOfPem(pem);
    return { key: await importSPKI(pem, alg), algorithms: [alg] };
  } catch (error) {
    throw new LifelineError('auth_key_invalid', 'auth.jwt_public_key cannot be loaded', {
      fix: 'give an SPKI PEM ("BEGIN PUBLIC KEY") of an RSA, EC P-256/384/521 or Ed25519 key',
      cause: error,
    });
  }
}

const ASYMMETRIC_ALGORITHMS = new Set([
  'RS256',
  'RS384',
  'RS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
]);

/** The algorithm a JWKS key is used with: its own `alg`, else the one its type implies. */
function algorithmOfJwk(jwk: JWK): string | undefined {
  if (jwk.alg !== undefined) return ASYMMETRIC_ALGORITHMS.has(jwk.alg) ? jwk.alg : undefined;
  if (jwk.kty === 'RSA') return 'RS256';
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') return 'EdDSA';
  if (jwk.kty === 'EC')
    return { 'P-256': 'ES256', 'P-384': 'ES384', 'P-521': 'ES512' }[jwk.crv ?? ''];
  return undefined;
}

function loadJwks(jwks: unknown): KeySource {
  const keys = (jwks as { keys?: unknown } | null)?.keys;
  const usable = Array.isArray(keys)
    ? (keys as JWK[]).filter(
        (jwk) =>
          typeof jwk === 'object' &&
          jwk !== null &&
          jwk.use !== 'enc' &&
          algorithmOfJwk(jwk) !== undefined,
      )
    : [];
  if (usable.length === 0) {
    throw new LifelineError('auth_key_invalid', 'auth.jwks_file holds no usable signing key', {
      fix: 'give a JWKS with RSA, EC or Ed25519 public keys ({"keys":[…]}); symmetric keys are not allowed',
    });
  }
  const algorithms = [...new Set(usable.map((jwk) => algorithmOfJwk(jwk) as string))];
  try {
    return { key: createLocalJWKSet({ keys: usable } as JSONWebKeySet), algorithms };
  } catch (error) {
    throw new LifelineError('auth_key_invalid', 'auth.jwks_file cannot be loaded', {
      cause: error,
    });
  }
}

/** Options for {@link mintToken}. */
interface MintOptions {
  /** The HS256 secret the daemon verifies with. */
  secret: Uint8Array | string;
  userId: string;
  ttlS: number;
  issuer?: string;
  audience?: string;
  clock?: Clock;
}

/**
 * Signs an HS256 token for `lifeline token` (development) and tests.
 * @throws LifelineError `bad_user_id` when `userId` is not a valid id, `bad_ttl` for a ttl ≤ 0.
 */
export async function mintToken(options: MintOptions): Promise<string> {
  if (!isAcceptableId(options.userId)) {
    throw new LifelineError('bad_user_id', 'the user id must match [A-Za-z0-9._-]{1,128}');
  }
  if (!(options.ttlS > 0)) throw new LifelineError('bad_ttl', 'the ttl must be positive');
  const secret =
    typeof options.secret === 'string' ? new TextEncoder().encode(options.secret) : options.secret;
  const nowS = Math.floor((options.clock ?? systemClock).wallMs() / 1000);
  let jwt = new SignJWT({})
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(options.userId)
    .setIssuedAt(nowS)
    .setExpirationTime(nowS + Math.ceil(options.ttlS));
  if (options.issuer !== undefined) jwt = jwt.setIssuer(options.issuer);
  if (options.audience !== undefined) jwt = jwt.setAudience(options.audience);
  return jwt.sign(secret);
}

/** Where an upgrade request may carry its token (docs/design.md#websocket). */
interface TokenSources {
  /** The `Authorization` header. */
  authorization?: string | null;
  /** The `token` query parameter. */
  queryToken?: string | null;
  /** The `Sec-WebSocket-Protocol` header. */
  subprotocolHeader?: string | null;
}

/** The token found and the subprotocols offered, `bearer.*` entries removed. */
export interface ExtractedToken {
  token?: string;
  protocols: string[];
}

const BEARER_HEADER = /^Bearer[ \t]+([^\s]+)[ \t]*$/i;

/**
 * Finds the token: `Authorization: Bearer` first, then a `bearer.<token>` subprotocol entry, then
 * `?token=`. The returned `protocols` never contain the bearer entry, so the server cannot echo it
 * (docs/design.md#token-rules).
 */
export function extractToken(sources: TokenSources): ExtractedToken {
  const offered = (sources.subprotocolHeader ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0);
  const protocols = offered.filter((entry) => !entry.startsWith(BEARER_PROTOCOL_PREFIX));
  const fromHeader = BEARER_HEADER.exec(sources.authorization ?? '')?.[1];
  const fromProtocol = offered
    .find((entry) => entry.startsWith(BEARER_PROTOCOL_PREFIX))
    ?.slice(BEARER_PROTOCOL_PREFIX.length);
  const fromQuery = sources.queryToken ?? undefined;
  const token = [fromHeader, fromProtocol, fromQuery].find(
    (candidate) => candidate !== undefined && candidate.length > 0,
  );
  return token === undefined ? { protocols } : { token, protocols };
}
