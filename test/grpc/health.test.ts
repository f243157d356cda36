import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CHECK_SERVICE } from '../../src/grpc/protos.js';
import { LIVENESS_SERVICE } from '../../src/grpc/grpc-server.js';
import { HealthClient } from '../support/health.js';
import { JwksServer } from '../support/jwks-server.js';
import { startTokengate, type RunningTokengate } from '../support/tokengate.js';
import { createKey, jwksOf } from '../support/tokens.js';

describe('grpc.health.v1 on the ext_authz port', () => {
  let jwks: JwksServer;
  let tokengate: RunningTokengate;
  let health: HealthClient;

  before(async () => {
    jwks = await new JwksServer(jwksOf(await createKey('ES256'))).start();
    tokengate = await startTokengate({
      issuers: [
        {
          name: 'corp',
          issuer: 'https://login.example.test/',
          audiences: ['orders-api'],
          jwks: { uri: jwks.uri },
          algorithms: ['ES256'],
        },
      ],
    });
    health = new HealthClient(tokengate.grpcAddress);
    await health.watch('').until('SERVING');
  });

  after(async () => {
    health?.close();
    await tokengate?.stop();
    await jwks?.stop();
  });

  test('answers SERVING for the overall service and the ext_authz service once keys are loaded', async () => {
    assert.equal(await health.check(''), 'SERVING');
    assert.equal(await health.check(CHECK_SERVICE), 'SERVING');
  });

  test('answers SERVING for the liveness service', async () => {
    assert.equal(await health.check(LIVENESS_SERVICE), 'SERVING');
  });

  test('answers NOT_FOUND for a service it does not know', async () => {
    await assert.rejects(health.check('no.such.Service'), { code: 5 });
  });
});
