import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { Admission } from '../../src/grpc/admission.js';
import { startRedis, type RunningRedis } from '../support/redis.js';
import { tempDir } from '../support/temp.js';
import { suiteTool } from '../support/tools.js';
import { CheckClient, startTokengate, type RunningTokengate } from '../support/tokengate.js';
import { createKey, jwksOf, signToken, type TestKey } from '../support/tokens.js';

const NOW = 1_800_000_000_000;

describe('admission', () => {
  test('refuses a check whose deadline has already passed with DEADLINE_EXCEEDED', () => {
    const admission = new Admission(10);
    assert.equal(admission.admit(new Date(NOW - 1), NOW)?.code, grpc.status.DEADLINE_EXCEEDED);
    assert.equal(admission.admit(NOW, NOW)?.code, grpc.status.DEADLINE_EXCEEDED);
    assert.equal(admission.current, 0);
    assert.equal(admission.refused.deadline_exceeded, 2);
  });

  test('admits checks without a deadline or with time left', () => {
    const admission = new Admission(10);
    assert.equal(admission.admit(Infinity, NOW), undefined);
    assert.equal(admission.admit(new Date(NOW + 50), NOW), undefined);
    assert.equal(admission.current, 2);
  });

  test('refuses checks past the in-flight bound with RESOURCE_EXHAUSTED until one is released', () => {
    const admission = new Admission(2);
    assert.equal(admission.admit(Infinity, NOW), undefined);
    assert.equal(admission.admit(Infinity, NOW), undefined);
    assert.equal(admission.admit(Infinity, NOW)?.code, grpc.status.RESOURCE_EXHAUSTED);
    assert.equal(admission.refused.resource_exhausted, 1);

    admission.release();
    assert.equal(admission.admit(Infinity, NOW), undefined);
    assert.equal(admission.current, 2);
  });
});

const [redisBin, missingRedis] = suiteTool('redis-server');

/**
 * Signature checks run on the event loop, so only a check that waits on I/O stays in flight
 * while others arrive: here each one claims its token for one-time use in a real Redis.
 */
describe('a tokengate at its in-flight bound', { skip: missingRedis }, () => {
  const ISSUER = 'https://overload.example.test/';
  const dir = tempDir('tokengate-overload-');
  let key: TestKey;
  let tokengate: RunningTokengate;
  let client: CheckClient;
  let redis: RunningRedis;

  before(async () => {
    redis = await startRedis(redisBin!);
    key = await createKey('RS256');
    const jwksPath = join(dir.path, 'jwks.json');
    writeFileSync(jwksPath, JSON.stringify(jwksOf(key)));
    tokengate = await startTokengate({
      grpc: { address: '127.0.0.1:0', maxInFlight: 1 },
      issuers: [
        {
          name: 'corp',
          issuer: ISSUER,
          audiences: ['api'],
          jwks: { file: jwksPath },
          algorithms: ['RS256'],
        },
      ],
      policies: {
        unmatched: 'require-token',
        rules: [{ name: 'once', match: { prefixes: ['/'] }, require: {}, oneTimeUse: true }],
      },
      revocation: { store: 'redis', redis: { url: redis.url } },
    });
    client = new CheckClient(tokengate.grpcAddress);
  });

  after(async () => {
    client?.close();
    await tokengate?.stop();
    await redis?.remove();
    dir.remove();
  });

  test('answers excess concurrent checks at once with RESOURCE_EXHAUSTED and the rest normally', async () => {
    const warmup = await signToken(key, { issuer: ISSUER, audience: 'api', subject: 'alice' });
    await client.check({ headers: { authorization: `Bearer ${warmup}` } });
    const tokens = await Promise.all(
      Array.from({ length: 20 }, () =>
        signToken(key, { issuer: ISSUER, audience: 'api', subject: 'alice' }),
      ),
    );

    const outcomes = await Promise.all(
      tokens.map((token) =>
        client.check({ headers: { authorization: `Bearer ${token}` } }).then(
          (response) => (response.status.code === 0 ? 'allowed' : `denied ${response.status.code}`),
          (error: grpc.ServiceError) => grpc.status[error.code],
        ),
      ),
    );

    assert.ok(outcomes.includes('allowed'), outcomes.join());
    assert.ok(outcomes.includes('RESOURCE_EXHAUSTED'), outcomes.join());
    assert.deepEqual(
      outcomes.filter((outcome) => outcome !== 'allowed' && outcome !== 'RESOURCE_EXHAUSTED'),
      [],
    );
  });

  test('admits checks again once the ones in flight are answered', async () => {
    for (let index = 0; index < 5; index++) {
      const token = await signToken(key, { issuer: ISSUER, audience: 'api', subject: 'bob' });
      const response = await client.check({ headers: { authorization: `Bearer ${token}` } });
      assert.equal(response.status.code, 0);
    }
  });
});
