import { constants, KeyObject, verify, type VerifyKeyObjectInput, type webcrypto } from 'node:crypto';
import { errors, type FlattenedJWSInput, type JWSHeaderParameters } from 'jose';
import type { Algorithm } from '../config/schema.js';
import { TokengateError } from '../decision/errors.js';

/** How `node:crypto` checks one JWS algorithm (RFC 7518 section 3, RFC 8037, RFC 9864). */
interface Scheme {
  hash: string | null;
  padding?: number;
  saltLength?: number;
  /** ECDSA: the exact length of `r || s`. */
  ecdsaLength?: number;
}

const pkcs1 = (hash: string): Scheme => ({ hash });
const pss = (hash: string, bytes: number): Scheme => ({
  hash,
  padding: constants.RSA_PKCS1_PSS_PADDING,
  saltLength: bytes,
});

const SCHEMES: Record<Algorithm, Scheme> = {
  RS256: pkcs1('sha256'),
  RS384: pkcs1('sha384'),
  RS512: pkcs1('sha512'),
  PS256: pss('sha256', 32),
  PS384: pss('sha384', 48),
  PS512: pss('sha512', 64),
  ES256: { hash: 'sha256', ecdsaLength: 64 },
  ES384: { hash: 'sha384', ecdsaLength: 96 },
  ES512: { hash: 'sha512', ecdsaLength: 132 },
  EdDSA: { hash: null },
  Ed25519: { hash: null },
};

/**
 * Whether `signature` is a valid `alg` signature of `data` under `key`. Any fault (a key of the
 * wrong type, a malformed signature) is a plain `false`.
 */
export function verifySignature(
  alg: Algorithm,
  key: KeyObject,
  data: Buffer,
  signature: Buffer,
): boolean {
  const scheme = SCHEMES[alg];
  if (scheme === undefined) return false;
  if (scheme.ecdsaLength !== undefined && signature.length !== scheme.ecdsaLength) return false;
  const input: VerifyKeyObjectInput = { key };
  if (scheme.padding !== undefined) {
    input.padding = scheme.padding;
    input.saltLength = scheme.saltLength!;
  }
  if (scheme.ecdsaLength !== undefined) input.dsaEncoding = 'ieee-p1363';
  try {
    return verify(scheme.hash, data, input, signature);
  } catch {
    return false;
  }
}

/** A jose key resolver: the issuer's set, as `IssuerKeyStore.resolve` exposes it. */
export type KeyResolver = (
  header: JWSHeaderParameters,
  token: FlattenedJWSInput,
) => Promise<unknown>;

/** The parts of a compact JWS a signature check reads. */
export interface SignedParts {
  header: Record<string, unknown>;
  signingInput: string;
  signature: Buffer;
}

/**
 * Checks the signature of a parsed compact JWS against the key jose selects from the issuer's set
 * (by `kid`, `kty`, `alg`, `use`, `key_ops` and curve). jose imports the keys; the signature
 * itself is checked with `node:crypto`, synchronously, because jose 6 verifies only through
 * WebCrypto, whose every call is a round trip through the libuv thread pool (about 120 µs for an
 * RS256 check on this project's machines, against about 47 µs). A token without `kid` that
 * matches several keys of the set (as during a rotation) is tried against each.
 *
 * Throws a {@link TokengateError}: `signature_invalid`, or what the key selection failed with.
 */
export async function verifyJwsSignature(parts: SignedParts, resolve: KeyResolver): Promise<void> {
  const alg = parts.header.alg as Algorithm;
  const data = Buffer.from(parts.signingInput, 'latin1');
  const flattened = { payload: '', signature: '' } as FlattenedJWSInput;
  let key: unknown;
  try {
    key = await resolve(parts.header as JWSHeaderParameters, flattened);
  } catch (error) {
    if (!(error instanceof errors.JWKSMultipleMatchingKeys)) throw error;
    for await (const candidate of error) {
      if (verifySignature(alg, keyObjectOf(candidate), data, parts.signature)) return;
    }
    throw new TokengateError('signature_invalid');
  }
  if (!verifySignature(alg, keyObjectOf(key), data, parts.signature)) {
    throw new TokengateError('signature_invalid');
  }
}

const KEY_OBJECTS = new WeakMap<object, KeyObject>();

/** The `node:crypto` form of a key jose imported (a WebCrypto `CryptoKey`), converted once. */
function keyObjectOf(key: unknown): KeyObject {
  if (key instanceof KeyObject) return key;
  if (key === null || typeof key !== 'object') throw new TokengateError('key_not_found');
  let object = KEY_OBJECTS.get(key);
  if (object === undefined) {
    object = KeyObject.from(key as webcrypto.CryptoKey);
    if (object.type !== 'public') throw new TokengateError('key_not_found');
    KEY_OBJECTS.set(key, object);
  }
  return object;
}
