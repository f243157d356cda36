import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SignJWT } from 'jose';
import type { RunningEnvoy } from '../support/envoy.js';
import {
  STACK_AUDIENCE as AUDIENCE,
  STACK_ISSUER as ISSUER,
  startEnvoyStack,
  type EnvoyStack,
} from '../support/envoy-stack.js';
import type { JwksServer } from '../support/jwks-server.js';
import type { RunningTokengate } from '../support/tokengate.js';
import { b64, createKey, fingerprint, jwksOf, signToken, type TestKey } from '../support/tokens.js';
import { suiteTool } from '../support/tools.js';
import type { EchoUpstream } from '../support/upstream.js';

const [envoyBin, missing] = suiteTool('envoy');

describe('through a real Envoy', { skip: missing }, () => {
  let stack: EnvoyStack;
  let key: TestKey;
  let jwks: JwksServer;
  let upstream: EchoUpstream;
  let tokengate: RunningTokengate;
  let envoy: RunningEnvoy;

  before(async () => {
    stack = await startEnvoyStack({
      envoyBin: envoyBin!,
      alg: 'RS256',
      issuer: { algorithms: ['RS256', 'ES256'] },
      jwks: { cooldown: '100ms' },
      config: { headers: { fromClaims: { 'x-auth-subject': 'sub', 'x-auth-issuer': 'iss' } } },
    });
    ({ key, jwks, upstream, tokengate, envoy } = stack);
  });

  after(() => stack?.stop());

  const get = (path: string, headers: Record<string, string> = {}) =>
    fetch(`${envoy.url}${path}`, { headers });
  const bearer = (token: string, extra: Record<string, string> = {}) => ({
    authorization: `Bearer ${token}`,
    ...extra,
  });
  const valid = (extra: Partial<Parameters<typeof signToken>[1]> = {}) =>
    signToken(key, { issuer: ISSUER, audience: AUDIENCE, subject: 'alice', ...extra });

  test('answers a request without a token with 401 and a bare Bearer challenge', async () => {
    const response = await get('/anything');
    assert.equal(response.status, 401);
    assert.equal(response.headers.get('www-authenticate'), 'Bearer realm="tokengate"');
    assert.equal(upstream.received.length, 0);
  });

  test('lets a valid token through and the upstream sees x-auth-subject', async () => {
    const response = await get('/orders/1', bearer(await valid()));
    assert.equal(response.status, 200);
    const seen = (await response.json()) as { headers: Record<string, string> };
    assert.equal(seen.headers['x-auth-subject'], 'alice');
    assert.equal(seen.headers['x-auth-issuer'], ISSUER);
  });

  test('never passes a client-sent x-auth-subject to the upstream', async () => {
    const withSpoof = await get(
      '/orders/2',
      bearer(await valid(), { 'x-auth-subject': 'mallory' }),
    );
    assert.equal(((await withSpoof.json()) as any).headers['x-auth-subject'], 'alice');

    // A token without `sub` must not let the client's own header through either.
    const noSub = await signToken(key, { issuer: ISSUER, audience: AUDIENCE });
    const response = await get('/orders/3', bearer(noSub, { 'x-auth-subject': 'mallory' }));
    assert.equal(response.status, 200);
    assert.equal(((await response.json()) as any).headers['x-auth-subject'], undefined);
  });

  const rejected: [string, () => Promise<string>, string][] = [
    ['an expired token', () => valid({ expiresIn: -120 }), 'token_expired'],
    ['a token for another audience', () => valid({ audience: 'billing-api' }), 'audience_mismatch'],
    [
      'a token of an unknown issuer',
      () => valid({ issuer: 'https://evil.example.test/' }),
      'issuer_unknown',
    ],
    [
      'an alg none token',
      async () =>
        `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ iss: ISSUER, aud: AUDIENCE, sub: 'alice', exp: 4e9 })}.`,
      'token_malformed',
    ],
    [
      'an HS256 token signed with the RSA public key',
      async () => {
        const secret = new TextEncoder().encode(JSON.stringify(key.publicJwk));
        return new SignJWT({ sub: 'alice' })
          .setProtectedHeader({ alg: 'HS256', kid: key.kid })
          .setIssuer(ISSUER)
          .setAudience(AUDIENCE)
          .setExpirationTime('5m')
          .sign(secret);
      },
      'algorithm_not_allowed',
    ],
  ];
  for (const [name, make, reason] of rejected) {
    test(`rejects ${name} with 401 invalid_token`, async () => {
      const before = upstream.received.length;
      const token = await make();
      const response = await get('/orders/1', bearer(token));
      assert.equal(response.status, 401);
      assert.match(
        response.headers.get('www-authenticate') ?? '',
        /^Bearer realm="tokengate", error="invalid_token"/,
      );
      const body = (await response.json()) as { error: string };
      assert.equal(body.error, 'invalid_token');
      assert.equal(upstream.received.length, before);
      const logged = await tokengate.waitForDecision(
        (line) => line.fingerprint === fingerprint(token),
      );
      assert.equal(logged.reason, reason);
    });
  }

  test('accepts a token signed by a rotated-in key without a restart', async () => {
    const next = await createKey('ES256');
    jwks.setKeys(jwksOf(key, next));
    const token = await signToken(next, { issuer: ISSUER, audience: AUDIENCE, subject: 'bob' });

    // The unknown kid is denied and starts one background refresh; the next try passes.
    let status = 0;
    for (let attempt = 0; attempt < 50 && status !== 200; attempt++) {
      status = (await get('/orders/9', bearer(token))).status;
      if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.equal(status, 200);
  });

  test('keeps verifying with cached keys while the JWKS server is down', async () => {
    await jwks.down({ close: true });
    try {
      // An unknown kid makes tokengate refresh now, against the dead endpoint.
      const stranger = await createKey('RS256');
      await get(
        '/orders/10',
        bearer(await signToken(stranger, { issuer: ISSUER, audience: AUDIENCE })),
      );
      await tokengate.child.waitForLine((line) =>
        line.includes('jwks refresh failed, serving last good keys'),
      );

      const response = await get('/orders/10', bearer(await valid({ subject: 'carol' })));
      assert.equal(response.status, 200);
    } finally {
      await jwks.up();
    }
  });

  test('lets the route with the check disabled through without a token', async () => {
    const response = await get('/envoy-health');
    assert.equal(response.status, 200);
  });
});
