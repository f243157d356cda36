import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { authorizationService } from '../../src/grpc/protos.js';
import { tempDir } from '../support/temp.js';
import { startTokengate, type RunningTokengate } from '../support/tokengate.js';
import { createKey, jwksOf, signToken, type TestKey } from '../support/tokens.js';

const ISSUER = 'https://workers.example.test/';
const AUDIENCE = 'orders-api';

/** A Check client on its own connection: grpc-js otherwise shares one per target. */
function ownConnectionCheck(address: string, token: string, requestId: string): Promise<any> {
  const Client = grpc.makeGenericClientConstructor(authorizationService(), 'Authorization');
  const client = new Client(address, grpc.credentials.createInsecure(), {
    'grpc.use_local_subchannel_pool': 1,
  }) as grpc.Client & Record<string, Function>;
  const request = {
    attributes: {
      request: {
        http: {
          method: 'GET',
          path: '/orders',
          host: 'api.example.com',
          headers: { authorization: `Bearer ${token}`, 'x-request-id': requestId },
        },
      },
    },
  };
  return new Promise((resolve, reject) =>
    client.Check!(
      request,
      { deadline: Date.now() + 5_000 },
      (error: Error | null, response: any) => {
        client.close();
        return error ? reject(error) : resolve(response);
      },
    ),
  );
}

describe('workers: 2', () => {
  const dir = tempDir('tokengate-workers-');
  let key: TestKey;
  let tokengate: RunningTokengate;

  before(async () => {
    key = await createKey('RS256');
    const jwksPath = join(dir.path, 'jwks.json');
    writeFileSync(jwksPath, JSON.stringify(jwksOf(key)));
    tokengate = await startTokengate({
      workers: 2,
      issuers: [
        {
          name: 'corp',
          issuer: ISSUER,
          audiences: [AUDIENCE],
          jwks: { file: jwksPath },
          algorithms: ['RS256'],
        },
      ],
    });
    let listening = 0;
    await tokengate.child.waitForLine(
      (line) => line.includes('"tokengate listening"') && ++listening === 2,
      30_000,
    );
  });

  after(async () => {
    await tokengate?.stop();
    dir.remove();
  });

  test('both worker processes serve checks on the one shared gRPC port', async () => {
    const token = await signToken(key, { issuer: ISSUER, audience: AUDIENCE, subject: 'alice' });
    const workers = new Set<number>();
    for (let attempt = 0; attempt < 20 && workers.size < 2; attempt++) {
      const requestId = `workers-${attempt}`;
      const response = await ownConnectionCheck(tokengate.grpcAddress, token, requestId);
      assert.equal(response.status.code, 0);
      const line = await tokengate.waitForDecision((entry) => entry.requestId === requestId);
      assert.equal(line.decision, 'allow');
      workers.add(line.worker);
    }
    assert.deepEqual([...workers].sort(), [1, 2]);
  });

  test('/metrics counts the checks of every worker, whichever worker answers it', async () => {
    const token = await signToken(key, { issuer: ISSUER, audience: AUDIENCE, subject: 'bob' });
    const before = await checksCounted(tokengate.httpAddress);
    for (let index = 0; index < 6; index++) {
      await ownConnectionCheck(tokengate.grpcAddress, token, `metrics-${index}`);
    }
    for (let scrape = 0; scrape < 4; scrape++) {
      assert.equal(await checksCounted(tokengate.httpAddress), before + 6);
    }
  });

  test('stops every worker and exits 0 on SIGTERM', async () => {
    const code = await tokengate.stop('SIGTERM');
    assert.equal(code, 0);
    const stopped = tokengate
      .logs()
      .filter((line) => line.msg === 'stopped')
      .map((line) => line.worker);
    assert.deepEqual(stopped.sort(), [1, 2]);
  });
});

/** The sum of `tokengate_checks_total` over all its series. */
async function checksCounted(httpAddress: string): Promise<number> {
  const response = await fetch(`http://${httpAddress}/metrics`);
  assert.equal(response.status, 200);
  let sum = 0;
  for (const line of (await response.text()).split('\n')) {
    const match = /^tokengate_checks_total(?:\{[^}]*\})? (\d+)/.exec(line);
    if (match) sum += Number(match[1]);
  }
  return sum;
}
