import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { generateKeyPairSync } from 'node:crypto';
import type { JWK } from 'jose';
import { IssuerKeyStore } from '../../src/tokens/key-store.js';
import { unusableKeyReason } from '../../src/tokens/weak-keys.js';
import { createKey } from '../support/tokens.js';
import { silent } from './support.js';

const ROCA_PRIMES = [
  3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97, 101,
  103, 107, 109, 113, 127, 131, 137, 139, 149, 151, 157, 163, 167,
].map(BigInt);

const b64u = (value: bigint) => {
  let hex = value.toString(16);
  if (hex.length % 2 === 1) hex = `0${hex}`;
  return Buffer.from(hex, 'hex').toString('base64url');
};

/** A 2048-bit number with the ROCA residues: 65537^k mod each small prime. */
function rocaShapedModulus(): bigint {
  const primorial = ROCA_PRIMES.reduce((a, b) => a * b, 1n);
  let residue = 1n;
  for (let i = 0; i < 1234; i += 1) residue = (residue * 65537n) % primorial;
  return ((1n << 2047n) / primorial) * primorial + residue;
}

describe('unusableKeyReason', () => {
  test('accepts freshly generated RSA, EC and Ed25519 keys', async () => {
    for (const alg of ['RS256', 'RS256', 'RS256', 'PS256', 'ES256', 'ES384', 'EdDSA']) {
      const { publicJwk } = await createKey(alg);
      assert.equal(unusableKeyReason(publicJwk), undefined, alg);
    }
  });

  test('refuses an RSA key with public exponent 1 or an even exponent', async () => {
    const { publicJwk } = await createKey('RS256');
    assert.ok(unusableKeyReason({ ...publicJwk, e: b64u(1n) }));
    assert.ok(unusableKeyReason({ ...publicJwk, e: b64u(65536n) }));
    assert.equal(unusableKeyReason({ ...publicJwk, e: b64u(3n) }), undefined);
  });

  test('refuses an RSA modulus under 2048 bits', async () => {
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    assert.match(unusableKeyReason(publicKey.export({ format: 'jwk' }) as JWK)!, /2048/);
  });

  test('refuses a modulus with the ROCA fingerprint', async () => {
    const { publicJwk } = await createKey('RS256');
    assert.match(unusableKeyReason({ ...publicJwk, n: b64u(rocaShapedModulus()) })!, /ROCA/);
  });

  test('refuses an EC point off its curve, a wrong kty and symmetric keys', async () => {
    const { publicJwk } = await createKey('ES256');
    const y = Buffer.from(publicJwk.y!, 'base64url');
    y[y.length - 1]! ^= 1;
    assert.ok(unusableKeyReason({ ...publicJwk, y: y.toString('base64url') }));
    assert.ok(unusableKeyReason({ ...publicJwk, kty: 'RSA' } as JWK));
    assert.ok(unusableKeyReason({ kty: 'oct', k: 'c2VjcmV0' }));
  });
});

describe('IssuerKeyStore with an unusable key', () => {
  test('loads the other keys and leaves the unusable one out', async () => {
    const good = await createKey('RS256', 'good');
    const bad = await createKey('RS256', 'bad');
    const store = new IssuerKeyStore(
      'corp',
      { kind: 'static', jwks: { keys: [good.publicJwk, { ...bad.publicJwk, e: b64u(1n) }] } },
      { refreshInterval: 60_000, cooldown: 60_000, timeout: 1_000, gracePeriod: 60_000 },
      silent,
    );
    await store.start();
    assert.equal(store.keyCount, 1);
    await assert.rejects(store.resolve({ alg: 'RS256', kid: 'bad' }, {} as never), {
      code: 'ERR_JWKS_NO_MATCHING_KEY',
    });
    await store.resolve({ alg: 'RS256', kid: 'good' }, {} as never);
    store.stop();
  });
});
