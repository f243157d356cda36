/**
 * Wycheproof vectors through tokengate's own verification path.
 *
 * The vectors are not part of the repository. They are read from `WYCHEPROOF_DIR`, else from
 * `../shared/vectors/wycheproof/` next to the repository; where neither exists the suite skips
 * with a message, except under `CI`, where it fails.
 *
 * - JWS and JWK files: each `jws` goes through the strict compact parser (`readCompactJws`, the
 *   JWS layer of what the verifier runs; the vectors' payloads are not JWT claim sets), the
 *   asymmetric allow-list of the config schema, an `IssuerKeyStore` over the group's public keys
 *   and `verifyJwsSignature`, exactly as the verifier checks a signature (jose selects and
 *   imports the key, `node:crypto` checks the signature). Errors are mapped with the verifier's
 *   own `toTokengateError`.
 * - Primitive files: the key goes through jose's `importJWK` (or `importSPKI` where the group
 *   has no JWK) and the signature through the verifier's `verifySignature`.
 *
 * `valid` must be accepted and `invalid` rejected, with two documented kinds of exception:
 * symmetric (HS*) vectors, which tokengate refuses by design (`algorithm_not_allowed`, or
 * `token_malformed` for the two whose base64url has a stray character), and the few listed in
 * {@link STRICTER}, where tokengate refuses a case the vectors call valid.
 * `acceptable` cases (legal but discouraged encodings) may go either way; their outcome is
 * reported, not asserted.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { KeyObject, type webcrypto } from 'node:crypto';
import { importJWK, importSPKI, type JSONWebKeySet, type JWK } from 'jose';
import { ALGORITHMS, type Algorithm } from '../../src/config/schema.js';
import { TokengateError } from '../../src/decision/errors.js';
import { readCompactJws } from '../../src/tokens/compact-jws.js';
import { IssuerKeyStore } from '../../src/tokens/key-store.js';
import { verifyJwsSignature, verifySignature } from '../../src/tokens/signature.js';
import { toTokengateError } from '../../src/tokens/verifier.js';
import { ROOT } from '../support/paths.js';
import { silent } from '../tokens/support.js';

const DIR = process.env.WYCHEPROOF_DIR || join(ROOT, '../shared/vectors/wycheproof');
const present = existsSync(join(DIR, 'json_web_signature_test.json'));
const missing = present
  ? false
  : `Wycheproof vectors not found in ${DIR}; set WYCHEPROOF_DIR to a copy of C2SP/wycheproof testvectors_v1`;
if (missing && process.env.CI) throw new Error(`${missing} (CI does not skip)`);

/**
 * Valid vectors tokengate refuses on purpose: the JWK declares another `alg` than the token's
 * header, and jose's key selection (like tokengate's) only uses a key for the alg it declares.
 */
const STRICTER: Record<string, Record<number, string>> = {
  'json_web_signature_test.json': {
    346: 'PS384 token, key declares PS256',
    347: 'ES512 token, key declares "ES521"',
    350: 'PS384 token, key declares PS256',
    351: 'ES512 token, key declares "ES521"',
  },
};

type Result = 'valid' | 'invalid' | 'acceptable';
interface Vector {
  tcId: number;
  comment: string;
  flags?: string[];
  result: Result;
  [field: string]: unknown;
}
interface Group {
  comment?: string;
  public?: JWK | JSONWebKeySet;
  tests: Vector[];
  [field: string]: unknown;
}

function load(name: string): Group[] {
  return (JSON.parse(readFileSync(join(DIR, name), 'utf8')) as { testGroups: Group[] }).testGroups;
}

/** Tallies outcomes and collects every case that went the wrong way. */
class Tally {
  readonly counts: Record<string, number> = {};
  readonly wrong: string[] = [];
  count(key: string): void {
    this.counts[key] = (this.counts[key] ?? 0) + 1;
  }
  report(t: TestContext, file: string): void {
    t.diagnostic(`${file}: ${JSON.stringify(this.counts)}`);
    assert.deepEqual(this.wrong, [], `${file}: ${this.wrong.length} cases went the wrong way`);
  }
}

const SYMMETRIC = /^HS\d+$/;

/** The header's alg read leniently (Node skips stray characters), only to classify a vector. */
function headerAlg(jws: string): string {
  try {
    const header = JSON.parse(Buffer.from(jws.split('.')[0]!, 'base64url').toString('utf8'));
    return typeof header.alg === 'string' ? header.alg : '';
  } catch {
    return '';
  }
}

/** Runs one compact JWS through tokengate's path; resolves to undefined or the reason code. */
async function verdict(jws: string, group: Group): Promise<string | undefined> {
  try {
    const parts = readCompactJws(jws);
    const { header } = parts;
    if (!(ALGORITHMS as readonly string[]).includes(header.alg as string)) {
      throw new TokengateError('algorithm_not_allowed');
    }
    if (group.public === undefined) throw new TokengateError('keys_unavailable');
    const jwks = 'keys' in group.public ? group.public : { keys: [group.public] };
    const store = new IssuerKeyStore(
      'vectors',
      { kind: 'static', jwks: jwks as JSONWebKeySet },
      { refreshInterval: 3_600_000, cooldown: 3_600_000, timeout: 1_000, gracePeriod: 3_600_000 },
      silent,
    );
    await store.start();
    try {
      await verifyJwsSignature(parts, store.resolve);
    } finally {
      store.stop();
    }
    return undefined;
  } catch (error) {
    return toTokengateError(error).code;
  }
}

async function runJwsFile(t: TestContext, file: string): Promise<void> {
  const tally = new Tally();
  const stricter = STRICTER[file] ?? {};
  for (const group of load(file)) {
    for (const vector of group.tests) {
      const jws = vector.jws as string;
      const code = await verdict(jws, group);
      const alg = headerAlg(jws);
      const label = `tcId ${vector.tcId} (${vector.comment}, ${vector.result})`;

      if (vector.result === 'invalid') {
        tally.count(code === undefined ? 'invalid accepted' : 'invalid rejected');
        if (code === undefined) tally.wrong.push(`${label} was accepted`);
      } else if (vector.result === 'acceptable') {
        tally.count(code === undefined ? 'acceptable accepted' : 'acceptable rejected');
      } else if (SYMMETRIC.test(alg)) {
        tally.count('valid HS* refused by design');
        if (code === undefined) tally.wrong.push(`${label} was accepted`);
      } else if (stricter[vector.tcId] !== undefined) {
        tally.count('valid refused (documented)');
        if (code === undefined) tally.wrong.push(`${label} is listed as refused but was accepted`);
      } else {
        tally.count(code === undefined ? 'valid accepted' : 'valid rejected');
        if (code !== undefined) tally.wrong.push(`${label} was rejected with ${code}`);
      }
    }
  }
  tally.report(t, file);
}

interface Primitive {
  file: string;
  alg: Algorithm;
}

const PRIMITIVES: Primitive[] = [
  { file: 'ecdsa_secp256r1_sha256_p1363_test.json', alg: 'ES256' },
  { file: 'ecdsa_secp384r1_sha384_p1363_test.json', alg: 'ES384' },
  { file: 'rsa_signature_2048_sha256_test.json', alg: 'RS256' },
  { file: 'rsa_pss_2048_sha256_mgf1_32_test.json', alg: 'PS256' },
  { file: 'ed25519_test.json', alg: 'EdDSA' },
];

async function importGroupKey(group: Group, alg: string) {
  const jwk = (group.publicKeyJwk ?? group.keyJwk) as JWK | undefined;
  if (jwk !== undefined) return importJWK({ ...jwk, alg }, alg);
  return importSPKI(group.publicKeyPem as string, alg);
}

async function runPrimitiveFile(t: TestContext, { file, alg }: Primitive): Promise<void> {
  const tally = new Tally();
  for (const group of load(file)) {
    let key: KeyObject | undefined;
    try {
      key = KeyObject.from((await importGroupKey(group, alg)) as webcrypto.CryptoKey);
    } catch {
      key = undefined;
    }
    for (const vector of group.tests) {
      const ok =
        key !== undefined &&
        verifySignature(
          alg,
          key,
          Buffer.from(vector.msg as string, 'hex'),
          Buffer.from(vector.sig as string, 'hex'),
        );
      const label = `tcId ${vector.tcId} (${vector.comment}, ${vector.result})`;
      tally.count(`${vector.result} ${ok ? 'accepted' : 'rejected'}`);
      if (vector.result === 'valid' && !ok) tally.wrong.push(`${label} was rejected`);
      if (vector.result === 'invalid' && ok) tally.wrong.push(`${label} was accepted`);
    }
  }
  tally.report(t, file);
}

describe('Wycheproof vectors', { skip: missing }, () => {
  test('json_web_signature_test.json: every invalid JWS is rejected, every valid asymmetric one accepted', (t) =>
    runJwsFile(t, 'json_web_signature_test.json'));

  test('json_web_key_test.json: every invalid key set or key use is rejected', (t) =>
    runJwsFile(t, 'json_web_key_test.json'));

  for (const primitive of PRIMITIVES) {
    test(`${primitive.file}: ${primitive.alg} verification through jose's key import and the verifier's signature check`, (t) =>
      runPrimitiveFile(t, primitive));
  }
});
