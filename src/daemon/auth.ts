/**
 * @module The token verifier from config: the HS256 secret, the public key (PEM text or a file
 * path), the JWKS file, or the generated development secret kept in the database
 * (docs/design.md#configuration).
 */
import { existsSync, readFileSync } from 'node:fs';
import type { Config } from '../config/schema.ts';
import type { Clock } from '../lib/clock.ts';
import { LifelineError } from '../lib/errors.ts';
import { createVerifier, type Verifier } from '../realtime/auth.ts';

/**
 * Builds the verifier pinned to the configured key; `devJwtSecret` reads the generated key (the
 * storage handle's, undefined in cluster mode).
 */
export async function verifierOf(
  config: Config,
  devJwtSecret: (() => string) | undefined,
  clock: Clock,
): Promise<Verifier> {
  const auth = config.auth;
  const common = {
    issuer: auth.issuer,
    audience: auth.audience,
    leewayS: auth.leeway_s,
    maxTokenBytes: config.limits.max_token_bytes,
    clock,
  };
  if (auth.jwks_file) {
    return createVerifier({
      ...common,
      jwksJson: JSON.parse(readFileSync(auth.jwks_file, 'utf8')),
    });
  }
  if (auth.jwt_public_key) {
    const pem =
      auth.jwt_public_key.startsWith('-----BEGIN') || !existsSync(auth.jwt_public_key)
        ? auth.jwt_public_key
        : readFileSync(auth.jwt_public_key, 'utf8');
    return createVerifier({ ...common, publicKeyPem: pem });
  }
  if (auth.jwt_secret === undefined && devJwtSecret === undefined) {
    // Cluster mode: every instance must verify the same tokens (preflight refuses this earlier).
    throw new LifelineError('config_invalid', 'cluster mode needs a configured token key', {
      fix: 'set auth.jwt_secret, auth.jwt_public_key or auth.jwks_file on every instance',
    });
  }
  return createVerifier({ ...common, hsSecret: auth.jwt_secret ?? devJwtSecret!() });
}

/** True when the daemon runs on the generated development key (no key configured). */
export function usesDevKey(config: Config): boolean {
  return !config.auth.jwt_secret && !config.auth.jwt_public_key && !config.auth.jwks_file;
}
