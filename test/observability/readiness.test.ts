import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { JwksServer } from '../support/jwks-server.js';
import { startTokengate, type RunningTokengate } from '../support/tokengate.js';
import { createKey, jwksOf } from '../support/tokens.js';
import { parseExposition, scrape, valueOf } from './fixture.js';

const issuer = (name: string, uri: string) => ({
  name,
  issuer: `https://${name}.example.test/`,
  audiences: ['api'],
  jwks: { uri, refreshInterval: '1h' },
  algorithms: ['ES256'],
});

describe('readiness with two issuers, one of them without keys', () => {
  let corp: JwksServer;
  let partner: JwksServer;
  let tokengate: RunningTokengate;
  const get = (path: string) => fetch(`http://${tokengate.httpAddress}${path}`);

  before(async () => {
    corp = await new JwksServer(jwksOf(await createKey('ES256'))).start();
    partner = await new JwksServer(jwksOf(await createKey('ES256'))).start();
    await partner.down();
    tokengate = await startTokengate({
      issuers: [issuer('corp', corp.uri), issuer('partner', partner.uri)],
    });
  });

  after(async () => {
    await tokengate?.stop();
    await corp?.stop();
    await partner?.stop();
  });

  test('is not ready and names the issuer whose keys are still loading', async () => {
    const response = await get('/readyz');
    assert.equal(response.status, 503);
    const body = (await response.json()) as { ready: boolean; problems: string[] };
    assert.equal(body.ready, false);
    assert.deepEqual(body.problems, ['issuer partner: keys loading']);

    const { samples } = parseExposition(await scrape(tokengate.httpAddress));
    assert.equal(valueOf(samples, 'tokengate_ready'), 0);
    assert.equal(valueOf(samples, 'tokengate_jwks_keys', { issuer: 'partner' }), 0);
    assert.ok(
      valueOf(samples, 'tokengate_jwks_refreshes_total', { issuer: 'partner', result: 'failed' }) >=
        1,
    );
  });

  test('stays live while not ready', async () => {
    assert.equal((await get('/healthz')).status, 200);
  });

  test('becomes ready once the missing issuer serves keys', async () => {
    await partner.up();
    await tokengate.child.waitForLine(
      (line) => line.includes('"jwks loaded"') && line.includes('"issuer":"partner"'),
      10_000,
    );

    const response = await get('/readyz');
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { ready: true, problems: [] });
    const { samples } = parseExposition(await scrape(tokengate.httpAddress));
    assert.equal(valueOf(samples, 'tokengate_ready'), 1);
  });
});
