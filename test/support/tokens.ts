import { fingerprintOf, tokenDigest } from '../../src/tokens/fingerprint.js';
import { recordToken } from './suite-record.js';
import { randomUUID } from 'node:crypto';
import {
  exportJWK,
  generateKeyPair,
  SignJWT,
  type CryptoKey,
  type JWK,
  type JWTPayload,
} from 'jose';

/** A signing key made at test time; tests never ship private keys. */
export interface TestKey {
  alg: string;
  kid: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  publicJwk: JWK;
}

export async function createKey(alg = 'RS256', kid: string = randomUUID()): Promise<TestKey> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { alg, kid, privateKey, publicKey, publicJwk };
}

export function jwksOf(...keys: TestKey[]): { keys: JWK[] } {
  return { keys: keys.map((key) => key.publicJwk) };
}

export interface TokenOptions {
  issuer: string;
  audience?: string | string[];
  subject?: string;
  /** Seconds from now; negative for an expired token. */
  expiresIn?: number | null;
  claims?: JWTPayload;
  header?: Record<string, unknown>;
  /** Seconds since epoch used as "now" for iat and exp. */
  now?: number;
}

/** Signs a JWT with `key`; `expiresIn: null` leaves `exp` out. */
export async function signToken(key: TestKey, options: TokenOptions): Promise<string> {
  const now = options.now ?? Math.floor(Date.now() / 1000);
  const jwt = new SignJWT({ ...options.claims })
    .setProtectedHeader({ alg: key.alg, kid: key.kid, ...options.header })
    .setIssuer(options.issuer)
    .setIssuedAt(now)
    .setJti(randomUUID());
  if (options.audience !== undefined) jwt.setAudience(options.audience);
  if (options.subject !== undefined) jwt.setSubject(options.subject);
  if (options.expiresIn !== null) jwt.setExpirationTime(now + (options.expiresIn ?? 300));
  const token = await jwt.sign(key.privateKey);
  recordToken(token);
  return token;
}

/** base64url of a JSON value, for hand-built malformed tokens. */
export function b64(value: unknown): string {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString(
    'base64url',
  );
}

/** The fingerprint tokengate logs for a token string. */
export function fingerprint(token: string): string {
  return fingerprintOf(tokenDigest(token));
}
