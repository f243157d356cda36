import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { RunningEnvoy } from '../support/envoy.js';
import {
  STACK_AUDIENCE as AUDIENCE,
  STACK_ISSUER as ISSUER,
  startEnvoyStack,
  type EnvoyStack,
} from '../support/envoy-stack.js';
import { CheckClient, type RunningTokengate } from '../support/tokengate.js';
import { fingerprint, signToken, type TestKey } from '../support/tokens.js';
import { suiteTool } from '../support/tools.js';

const [envoyBin, missing] = suiteTool('envoy');

/**
 * `deploy/envoy/envoy.yaml` names the policy `admin` on `/admin/` and `orders` on `/orders`;
 * every other route gets the top-level rules.
 */
const POLICIES = {
  rules: [
    { name: 'public', match: { paths: ['/public/**'] }, allow: 'anonymous' },
    {
      name: 'reports-v2',
      mode: 'shadow',
      match: { prefixes: ['/reports'] },
      require: { scopes: { allOf: ['reports:read'] } },
    },
    { name: 'reports', match: { prefixes: ['/reports'] }, require: {} },
  ],
  named: {
    orders: {
      rules: [
        {
          name: 'read',
          match: { methods: ['GET'] },
          require: { scopes: { allOf: ['orders:read'] } },
          headers: { 'x-tenant': { claim: 'tenant' } },
        },
      ],
    },
    admin: {
      rules: [
        {
          name: 'admins',
          require: {
            expression:
              '"admin" in token.roles && "x-admin-mode" in request.headers && ' +
              'request.headers["x-admin-mode"] == "on"',
          },
        },
      ],
    },
  },
};

describe('route policies through a real Envoy', { skip: missing }, () => {
  let stack: EnvoyStack;
  let key: TestKey;
  let tokengate: RunningTokengate;
  let envoy: RunningEnvoy;

  before(async () => {
    stack = await startEnvoyStack({
      envoyBin: envoyBin!,
      config: { headers: { fromClaims: { 'x-auth-subject': 'sub' } }, policies: POLICIES },
    });
    ({ key, tokengate, envoy } = stack);
  });

  after(() => stack?.stop());

  const get = (path: string, headers: Record<string, string> = {}) =>
    fetch(`${envoy.url}${path}`, { headers });
  const tokenWith = (claims: Record<string, unknown>) =>
    signToken(key, { issuer: ISSUER, audience: AUDIENCE, subject: 'alice', claims });
  const bearer = (token: string, extra: Record<string, string> = {}) => ({
    authorization: `Bearer ${token}`,
    ...extra,
  });

  test('an anonymous route works without a token, and strips spoofed identity headers', async () => {
    const response = await get('/public/page', { 'x-auth-subject': 'mallory' });
    assert.equal(response.status, 200);
    const seen = (await response.json()) as { headers: Record<string, string> };
    assert.equal(seen.headers['x-auth-subject'], undefined);
  });

  test('an anonymous route still rejects an invalid token', async () => {
    const response = await get('/public/page', bearer('not.a.token'));
    assert.equal(response.status, 401);
  });

  test('the orders route answers a token lacking the scope with 403 insufficient_scope', async () => {
    const token = await tokenWith({ scope: 'orders:write' });
    const response = await get('/orders/1', bearer(token));

    assert.equal(response.status, 403);
    assert.equal(
      response.headers.get('www-authenticate'),
      'Bearer realm="tokengate", error="insufficient_scope", ' +
        'error_description="token lacks a required scope", scope="orders:read"',
    );
    const logged = await tokengate.waitForDecision(
      (line) => line.fingerprint === fingerprint(token),
    );
    assert.equal(logged.reason, 'insufficient_scope');
    assert.equal(logged.policy, 'orders');
    assert.equal(logged.rule, 'read');

    // Straight to tokengate, as Envoy asks: the gRPC status is PERMISSION_DENIED.
    const client = new CheckClient(tokengate.grpcAddress);
    try {
      const answer = await client.check({
        path: '/orders/1',
        headers: { authorization: `Bearer ${token}` },
        contextExtensions: { 'tokengate.policy': 'orders' },
      });
      assert.equal(answer.status.code, 7);
      assert.equal(answer.denied_response.status.code, 403);
    } finally {
      client.close();
    }
  });

  test('the orders route lets a token with the scope through with the rule headers', async () => {
    const token = await tokenWith({ scope: 'orders:read', tenant: 'acme' });
    const response = await get('/orders/1', bearer(token, { 'x-tenant': 'evil' }));
    assert.equal(response.status, 200);
    const seen = (await response.json()) as { headers: Record<string, string> };
    assert.equal(seen.headers['x-tenant'], 'acme');
    assert.equal(seen.headers['x-auth-subject'], 'alice');
  });

  test('the admin route is judged by its own policy: a CEL rule on a claim and a header', async () => {
    const admin = await tokenWith({ roles: ['admin'] });
    const denied = await get('/admin/users', bearer(admin));
    assert.equal(denied.status, 403);
    const logged = await tokengate.waitForDecision(
      (line) => line.fingerprint === fingerprint(admin),
    );
    assert.equal(logged.reason, 'expression_false');
    assert.equal(logged.policy, 'admin');

    const allowed = await get('/admin/users', bearer(admin, { 'x-admin-mode': 'on' }));
    assert.equal(allowed.status, 200);

    // A token with orders:read passes /orders but not /admin/: the routes name different policies.
    const reader = await tokenWith({ scope: 'orders:read', roles: ['viewer'] });
    assert.equal((await get('/admin/users', bearer(reader, { 'x-admin-mode': 'on' }))).status, 403);
    assert.equal((await get('/orders/2', bearer(reader))).status, 200);
  });

  test('a shadow rule logs and counts its would-be deny while the request passes', async () => {
    const token = await tokenWith({ scope: 'orders:read' });
    const response = await get('/reports/weekly', bearer(token));
    assert.equal(response.status, 200);

    const logged = await tokengate.waitForDecision(
      (line) => line.fingerprint === fingerprint(token),
    );
    assert.equal(logged.decision, 'allow');
    assert.equal(logged.rule, 'reports');
    assert.deepEqual(logged.shadow, {
      kind: 'deny',
      reason: 'insufficient_scope',
      policy: 'default',
      rule: 'reports-v2',
    });

    const metrics = await (await fetch(`http://${tokengate.httpAddress}/metrics`)).text();
    assert.match(
      metrics,
      /tokengate_shadow_decisions_total\{decision="deny",reason="insufficient_scope",policy="default"\} 1/,
    );
  });

  test('a route outside every rule gets the default deny', async () => {
    const response = await get('/elsewhere', bearer(await tokenWith({})));
    assert.equal(response.status, 403);
  });
});
