import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { validateConfig } from '../../src/config/load.js';
import { Authorizer, type DecisionSink } from '../../src/decision/authorizer.js';
import type { Decision } from '../../src/decision/decision.js';
import { TokengateError } from '../../src/decision/errors.js';
import type { AuthzRequest } from '../../src/decision/request.js';
import type { Snapshot } from '../../src/decision/snapshot.js';
import {
  REQUIRE_TOKEN,
  type PolicyStage,
  type RevocationStage,
} from '../../src/decision/stages.js';
import { IssuerKeyStore } from '../../src/tokens/key-store.js';
import { TokenCache } from '../../src/tokens/token-cache.js';
import { TokenVerifier } from '../../src/tokens/verifier.js';
import { createKey, fingerprint, jwksOf, signToken } from '../support/tokens.js';
import { silent } from '../tokens/support.js';

const ISSUER = 'https://login.example.test/';
const key = await createKey('ES256', 'k1');

const { config } = validateConfig({
  realm: 'orders',
  issuers: [
    {
      name: 'corp',
      issuer: ISSUER,
      audiences: ['orders-api'],
      jwks: { file: '/unused.json' },
      algorithms: ['ES256'],
    },
  ],
  headers: { fromClaims: { 'x-auth-subject': 'sub', 'x-auth-scopes': 'scope' } },
});

const store = new IssuerKeyStore(
  'corp',
  { kind: 'static', jwks: jwksOf(key) },
  config.issuers[0]!.jwks,
  silent,
);
await store.start();
const verifier = new TokenVerifier(
  [{ config: config.issuers[0]!, keys: store }],
  new TokenCache(100),
);

function snapshot(overrides: Partial<Snapshot> = {}): Snapshot {
  return { config, hash: 'test', verifier, policy: REQUIRE_TOKEN, ...overrides };
}

function request(headers: Record<string, string> = {}): AuthzRequest {
  return {
    id: 'req-1',
    method: 'GET',
    host: 'api.example.com',
    path: '/orders',
    headers,
    source: { address: '127.0.0.1' },
    contextExtensions: {},
  };
}

class RecordingSink implements DecisionSink {
  readonly decisions: Decision[] = [];
  record(_request: AuthzRequest, decision: Decision): void {
    this.decisions.push(decision);
  }
}

async function run(
  headers: Record<string, string>,
  overrides: Partial<Snapshot> = {},
  extraSinks: DecisionSink[] = [],
) {
  const sink = new RecordingSink();
  const authorizer = new Authorizer(() => snapshot(overrides), [...extraSinks, sink], silent);
  const decision = await authorizer.check(request(headers));
  assert.equal(sink.decisions.length, 1, 'every sink sees the decision exactly once');
  assert.equal(sink.decisions[0]!.reason, decision.reason);
  return decision;
}

const bearer = async (claims: Record<string, unknown> = {}) => ({
  authorization: `Bearer ${await signToken(key, {
    issuer: ISSUER,
    audience: 'orders-api',
    subject: 'alice',
    claims,
  })}`,
});

describe('Authorizer', () => {
  test('denies a request without a token with token_missing', async () => {
    const decision = await run({});
    assert.equal(decision.kind, 'deny');
    assert.equal(decision.reason, 'token_missing');
  });

  test('treats another scheme as no token and a broken Bearer header as malformed', async () => {
    assert.equal((await run({ authorization: 'Basic YTpi' })).reason, 'token_missing');
    assert.equal((await run({ authorization: 'Bearer a b' })).reason, 'header_malformed');
  });

  test('allows a valid token, sets mapped headers and removes the unmapped ones', async () => {
    const decision = await run(await bearer());
    assert.equal(decision.kind, 'allow');
    if (decision.kind !== 'allow') return;
    assert.deepEqual(decision.headersToSet, [['x-auth-subject', 'alice']]);
    assert.deepEqual(decision.headersToRemove, ['x-auth-scopes']);
    assert.equal(decision.caller?.subject, 'alice');
    assert.equal(decision.caller?.issuer, 'corp');
  });

  test('names a rejected token by fingerprint only', async () => {
    const headers = await bearer();
    const token = headers.authorization.slice(7);
    const tampered = `${token.slice(0, -4)}AAAA`;
    const decision = await run({ authorization: `Bearer ${tampered}` });
    assert.equal(decision.reason, 'signature_invalid');
    assert.equal(decision.caller?.fingerprint, fingerprint(tampered));
    assert.equal(decision.caller?.subject, undefined);
    assert.equal(decision.caller?.issuer, undefined);
  });

  test('denies with internal_error when the policy stage throws', async () => {
    const policy: PolicyStage = {
      evaluate: () => {
        throw new Error('boom');
      },
    };
    const decision = await run(await bearer(), { policy });
    assert.equal(decision.kind, 'deny');
    assert.equal(decision.reason, 'internal_error');
  });

  test('denies with internal_error when the verifier fails unexpectedly', async () => {
    const broken = { verify: () => Promise.reject(new TypeError('unexpected')) } as never;
    const decision = await run(await bearer(), { verifier: broken });
    assert.equal(decision.reason, 'internal_error');
  });

  test("denies with the revocation stage's code, or internal_error for a plain fault", async () => {
    const revoked: RevocationStage = {
      assertNotRevoked: () => {
        throw new TokengateError('token_revoked');
      },
      claimOneTimeUse: async () => undefined,
    };
    const faulty: RevocationStage = {
      assertNotRevoked: () => Promise.reject(new Error('redis gone')),
      claimOneTimeUse: async () => undefined,
    };
    assert.equal((await run(await bearer(), { revocation: revoked })).reason, 'token_revoked');
    assert.equal((await run(await bearer(), { revocation: faulty })).reason, 'internal_error');
  });

  test('denies a one-time-use rule when there is no revocation store', async () => {
    const policy: PolicyStage = {
      evaluate: () => ({ kind: 'allow', reason: 'allowed', origin: {}, oneTimeUse: true }),
    };
    assert.equal((await run(await bearer(), { policy })).reason, 'internal_error');
  });

  test('still answers, and still tells the other sinks, when one sink throws', async () => {
    const throwing: DecisionSink = {
      record: () => {
        throw new Error('sink broke');
      },
    };
    const decision = await run(await bearer(), {}, [throwing]);
    assert.equal(decision.kind, 'allow');
  });
});
