import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AdminClient } from '../../src/admin/admin-client.js';
import { JwksServer } from '../support/jwks-server.js';
import { startRedis, type RunningRedis } from '../support/redis.js';
import { CheckClient, startTokengate, type RunningTokengate } from '../support/tokengate.js';
import { createKey, jwksOf, signToken, type TestKey } from '../support/tokens.js';
import { suiteTool } from '../support/tools.js';

const ISSUER = 'https://login.example.test/';
const AUDIENCE = 'orders-api';
const SCOPE = 'tokengate:admin';

const [redisBin, missing] = suiteTool('redis-server');

/** Polls `test` every 5 ms until it holds, for at most `timeoutMs`; returns the time taken. */
async function until(test: () => Promise<boolean>, timeoutMs = 5_000): Promise<number> {
  const started = performance.now();
  while (!(await test())) {
    if (performance.now() - started > timeoutMs) throw new Error(`not true within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return performance.now() - started;
}

describe('two tokengate replicas sharing a real Redis', { skip: missing }, () => {
  let redis: RunningRedis;
  let key: TestKey;
  let jwks: JwksServer;
  let a: RunningTokengate;
  let b: RunningTokengate;
  let checksA: CheckClient;
  let checksB: CheckClient;
  let admin: AdminClient;

  const config = (mode: 'failOpen' | 'failClosed', extra: Record<string, unknown> = {}) => ({
    issuers: [
      {
        name: 'corp',
        issuer: ISSUER,
        audiences: [AUDIENCE],
        jwks: { uri: jwks.uri, cooldown: '100ms', refreshInterval: '1h' },
        algorithms: ['ES256'],
      },
    ],
    policies: {
      unmatched: 'require-token',
      rules: [{ name: 'redeem', match: { prefixes: ['/redeem'] }, require: {}, oneTimeUse: true }],
    },
    revocation: { store: 'redis', redis: { url: redis.url }, staleAfter: '1500ms', mode },
    ...extra,
  });

  before(async () => {
    redis = await startRedis(redisBin!, { appendOnly: true });
    key = await createKey('ES256');
    jwks = await new JwksServer(jwksOf(key)).start();
    a = await startTokengate(
      config('failOpen', { admin: { address: '127.0.0.1:0', bearer: { scope: SCOPE } } }),
    );
    b = await startTokengate(config('failClosed'));
    checksA = new CheckClient(a.grpcAddress);
    checksB = new CheckClient(b.grpcAddress);
    const adminAddress = a.logs().find((line) => line.msg === 'tokengate listening')!.admin;
    const adminToken = await signToken(key, {
      issuer: ISSUER,
      audience: AUDIENCE,
      subject: 'ops-bob',
      claims: { scope: SCOPE },
      expiresIn: 3_600,
    });
    admin = new AdminClient({ address: adminAddress as string, token: adminToken });
  });

  after(async () => {
    admin?.close();
    checksA?.close();
    checksB?.close();
    await a?.stop();
    await b?.stop();
    await jwks?.stop();
    await redis?.remove();
  });

  const tokenFor = (claims: Record<string, unknown> = {}, subject = 'alice') =>
    signToken(key, {
      issuer: ISSUER,
      audience: AUDIENCE,
      subject,
      claims,
      now: Math.floor(Date.now() / 1000) - 2,
    });
  const jtiOf = (token: string) =>
    JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).jti as string;
  const allowed = async (client: CheckClient, token: string, path = '/orders') =>
    (await client.check({ path, headers: { authorization: `Bearer ${token}` } })).status.code === 0;

  for (const [kind, target] of [
    ['jti', (token: string) => ({ kind: 'KIND_JTI', value: jtiOf(token) })],
    ['subject', () => ({ kind: 'KIND_SUBJECT', value: 'dave' })],
    ['client', () => ({ kind: 'KIND_CLIENT', value: 'dave-app' })],
  ] as const) {
    test(`enforces a revocation by ${kind} made on one replica on the other within 1 s`, async () => {
      const token = await tokenFor(
        { client_id: kind === 'client' ? 'dave-app' : 'other' },
        kind === 'subject' ? 'dave' : 'erin',
      );
      assert.equal(await allowed(checksB, token), true);

      const started = performance.now();
      await admin.call('Revoke', { target: { issuer: 'corp', ...target(token) } });
      await until(async () => !(await allowed(checksB, token)), 2_000);
      const elapsed = performance.now() - started;
      console.log(
        `# revoke by ${kind} on replica A, denied on replica B after ${elapsed.toFixed(1)} ms`,
      );
      assert.ok(elapsed < 1_000, `took ${elapsed} ms`);
      await b.waitForDecision((line) => line.reason === 'token_revoked');
      assert.equal(await allowed(checksA, token), false);
    });
  }

  test('accepts a one-time token once across both replicas', async () => {
    const token = await tokenFor();
    assert.equal(await allowed(checksA, token, '/redeem/1'), true);
    assert.equal(await allowed(checksB, token, '/redeem/1'), false);
    await b.waitForDecision((line) => line.reason === 'token_reused');
    assert.equal(await allowed(checksA, token, '/redeem/1'), false);
    assert.equal(await allowed(checksA, token, '/orders'), true, 'other routes still take it');
  });

  test('serves from the mirror while Redis is down, applies each mode once stale, and heals', async () => {
    const revoked = await tokenFor({}, 'frank');
    const fine = await tokenFor({}, 'grace');
    await admin.call('Revoke', {
      target: { kind: 'KIND_SUBJECT', issuer: 'corp', value: 'frank' },
    });
    await until(async () => !(await allowed(checksB, revoked)));

    await redis.stop({ kill: true });
    assert.equal(await allowed(checksB, revoked), false, 'the mirror still knows the revocation');
    assert.equal(await allowed(checksB, await tokenFor({}, 'heidi'), '/redeem/2'), false);
    await b.waitForDecision(
      (line) => line.reason === 'revocation_unavailable' && line.subject === 'heidi',
    );

    const ready = async (tokengate: RunningTokengate) =>
      (await fetch(`http://${tokengate.httpAddress}/readyz`)).status === 200;
    await until(async () => !(await ready(b)), 5_000);
    assert.equal(await allowed(checksB, fine), false, 'failClosed denies once stale');
    await b.waitForDecision(
      (line) => line.reason === 'revocation_unavailable' && line.subject === 'grace',
    );

    const mirrorAge = async (tokengate: RunningTokengate) => {
      const text = await (await fetch(`http://${tokengate.httpAddress}/metrics`)).text();
      return Number(/^tokengate_revocation_mirror_age_seconds (\S+)$/m.exec(text)?.[1]);
    };
    await until(async () => (await mirrorAge(a)) > 1.5, 5_000);
    assert.equal(await allowed(checksA, fine), true, 'failOpen allows once stale');
    assert.equal(await ready(a), true, 'failOpen stays ready');
    const metrics = await (await fetch(`http://${a.httpAddress}/metrics`)).text();
    assert.match(metrics, /^tokengate_revocation_fail_open_total [1-9]/m);
    assert.match(metrics, /^tokengate_redis_up 0$/m);

    await redis.restart();
    await until(async () => (await ready(b)) && (await allowed(checksB, fine)), 10_000);
    assert.equal(await allowed(checksB, revoked), false, 'the revocation survived the restart');
  });
});
