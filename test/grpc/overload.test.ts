import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { Admission } from '../../src/grpc/admission.js';
import { tempDir } from '../support/temp.js';
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

describe('a tokengate at its in-flight bound', () => {
  const ISSUER = 'https://overload.example.test/';
  const dir = tempDir('tokengate-overload-');
  let key: TestKey;
  let tokengate: RunningTokengate;
  let client: CheckClient;

  before(async () => {
    key = await createKey('RS256');
    const jwksPath = join(dir.path, 'jwks.json');
    writeFileSync(jwksPath, JSON.stringify(jwksOf(key)));
    tokengate = await startTokengate({
      grpc: { address: '127.0.0.1:0', maxInFlight: 1 },
      // No cache: every check waits for a signature verification off the event loop.
      tokens: { cache: { maxEntries: 0 } },
      issuers: [
        {
          name: 'corp',
          issuer: ISSUER,
          audiences: ['api'],
          jwks: { file: jwksPath },
          algorithms: ['RS256'],
        },
      ],
    });
    client = new CheckClient(tokengate.grpcAddress);
  });

  after(async () => {
    client?.close();
    await tokengate?.stop();
    dir.remove();
  });

  test('answers excess concurrent checks at once with RESOURCE_EXHAUSTED and the rest normally', async () => {
    const token = await signToken(key, { issuer: ISSUER, audience: 'api', subject: 'alice' });
    const headers = { authorization: `Bearer ${token}` };
    await client.check({ headers });

    const outcomes = await Promise.all(
      Array.from({ length: 20 }, () =>
        client.check({ headers }).then(
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
    const token = await signToken(key, { issuer: ISSUER, audience: 'api', subject: 'bob' });
    for (let index = 0; index < 5; index++) {
      const response = await client.check({ headers: { authorization: `Bearer ${token}` } });
      assert.equal(response.status.code, 0);
    }
  });
});
