import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { engineOf, requestOf, tokenOf } from './fixtures.js';

describe('policy rules', () => {
  const engine = engineOf({
    rules: [
      { name: 'health', match: { paths: ['/healthz'] }, allow: 'anonymous' },
      { name: 'blocked', match: { prefixes: ['/internal/'] }, deny: true },
      {
        name: 'orders-read',
        match: { methods: ['GET'], paths: ['/orders/**'] },
        require: { scopes: { allOf: ['orders:read'] } },
        headers: { 'x-tenant': { claim: 'tenant' }, 'x-route': { value: 'orders' } },
      },
      {
        name: 'partner-only',
        match: { paths: ['/partner/**'] },
        require: { issuers: ['partner'] },
      },
      {
        match: { paths: ['/acme/**'] },
        require: { claims: [{ claim: 'tenant', equals: 'acme' }] },
      },
      {
        name: 'staff',
        match: { paths: ['/staff/**'] },
        require: { expression: '"staff" in token.roles' },
      },
      { name: 'once', match: { paths: ['/redeem'] }, require: {}, oneTimeUse: true },
    ],
  });

  test('the first matching rule decides, and the verdict names policy and rule', () => {
    const verdict = engine.evaluate(requestOf({ path: '/healthz' }), undefined);
    assert.equal(verdict.kind, 'allow');
    assert.equal(verdict.reason, 'anonymous');
    assert.deepEqual(verdict.origin, { policy: 'default', rule: 'health' });
  });

  test('an anonymous rule still carries the headers of a present token', () => {
    const verdict = engine.evaluate(requestOf({ path: '/healthz' }), tokenOf());
    assert.equal(verdict.kind, 'allow');
  });

  test('an explicit deny rule denies with policy_denied', () => {
    const verdict = engine.evaluate(requestOf({ path: '/internal/x' }), tokenOf());
    assert.equal(verdict.reason, 'policy_denied');
  });

  test('a require rule without a token denies with token_missing', () => {
    const verdict = engine.evaluate(requestOf({ path: '/orders/1' }), undefined);
    assert.equal(verdict.reason, 'token_missing');
  });

  test('missing scopes deny with insufficient_scope and name the scopes', () => {
    const verdict = engine.evaluate(requestOf({ path: '/orders/1' }), tokenOf({ scope: 'x' }));
    assert.equal(verdict.kind, 'deny');
    assert.equal(verdict.reason, 'insufficient_scope');
    assert.equal(verdict.scope, 'orders:read');
  });

  test('an allow sets the rule headers and names every mapped header for removal', () => {
    const verdict = engine.evaluate(
      requestOf({ path: '/orders/1' }),
      tokenOf({ scp: ['orders:read'], tenant: 'acme' }),
    );
    assert.equal(verdict.kind, 'allow');
    assert.deepEqual(verdict.headers, [
      ['x-tenant', 'acme'],
      ['x-route', 'orders'],
    ]);
    assert.deepEqual(verdict.headerNames, ['x-tenant', 'x-route']);

    const noTenant = engine.evaluate(
      requestOf({ path: '/orders/1' }),
      tokenOf({ scp: ['orders:read'] }),
    );
    assert.deepEqual(noTenant.headers, [['x-route', 'orders']]);
    assert.deepEqual(noTenant.headerNames, ['x-tenant', 'x-route']);
  });

  test('a token of an issuer the rule does not list denies with issuer_not_allowed', () => {
    const path = '/partner/x';
    assert.equal(engine.evaluate(requestOf({ path }), tokenOf()).reason, 'issuer_not_allowed');
    assert.equal(engine.evaluate(requestOf({ path }), tokenOf({}, 'partner')).kind, 'allow');
  });

  test('a failed claim condition denies with claim_condition_failed; an unnamed rule is #index', () => {
    const verdict = engine.evaluate(requestOf({ path: '/acme/x' }), tokenOf({ tenant: 'evil' }));
    assert.equal(verdict.reason, 'claim_condition_failed');
    assert.equal(verdict.origin.rule, '#4');
  });

  test('a false expression denies with expression_false, a failing one with expression_error', () => {
    const path = '/staff/x';
    assert.equal(
      engine.evaluate(requestOf({ path }), tokenOf({ roles: ['guest'] })).reason,
      'expression_false',
    );
    assert.equal(engine.evaluate(requestOf({ path }), tokenOf()).reason, 'expression_error');
    assert.equal(engine.evaluate(requestOf({ path }), tokenOf({ roles: ['staff'] })).kind, 'allow');
  });

  test('a oneTimeUse rule asks for one-time use on its allow', () => {
    const verdict = engine.evaluate(requestOf({ path: '/redeem' }), tokenOf());
    assert.equal(verdict.kind, 'allow');
    assert.equal(verdict.oneTimeUse, true);
  });

  test('a request no rule matches gets the default: deny with no_matching_rule', () => {
    const verdict = engine.evaluate(requestOf({ path: '/elsewhere' }), tokenOf());
    assert.equal(verdict.reason, 'no_matching_rule');
    assert.deepEqual(verdict.origin, { policy: 'default' });
  });

  test('unmatched: require-token lets any valid token through where no rule matches', () => {
    const lenient = engineOf({ unmatched: 'require-token', rules: [] });
    assert.equal(lenient.evaluate(requestOf(), tokenOf()).kind, 'allow');
    assert.equal(lenient.evaluate(requestOf(), undefined).reason, 'token_missing');
  });

  test('matches hosts with their port and in any case', () => {
    const byHost = engineOf({
      rules: [{ match: { hosts: ['*.example.com'] }, allow: 'anonymous' }],
    });
    const verdict = byHost.evaluate(requestOf({ host: 'API.example.com:8443' }), undefined);
    assert.equal(verdict.kind, 'allow');
  });
});

describe('policies chosen by the route', () => {
  const engine = engineOf({
    rules: [{ name: 'any', allow: 'anonymous' }],
    named: {
      orders: { rules: [{ name: 'read', require: { scopes: { anyOf: ['orders:read'] } } }] },
      strict: { rules: [] },
    },
  });
  const routed = (policy: string) =>
    requestOf({ contextExtensions: { 'tokengate.policy': policy } });

  test('a route naming a policy is judged by that policy only', () => {
    assert.equal(engine.evaluate(requestOf(), undefined).kind, 'allow');
    const verdict = engine.evaluate(routed('orders'), tokenOf({ scope: 'other' }));
    assert.equal(verdict.reason, 'insufficient_scope');
    assert.deepEqual(verdict.origin, { policy: 'orders', rule: 'read' });
    assert.equal(engine.evaluate(routed('strict'), tokenOf()).reason, 'no_matching_rule');
  });

  test('a route naming an unknown policy is denied with policy_unknown', () => {
    const verdict = engine.evaluate(routed('nope'), tokenOf());
    assert.equal(verdict.reason, 'policy_unknown');
    assert.deepEqual(verdict.origin, {});
  });
});

describe('shadow mode', () => {
  test('a shadow rule is computed and carried, and the next matching rule decides', () => {
    const engine = engineOf({
      rules: [
        { name: 'new-check', mode: 'shadow', require: { scopes: { allOf: ['reports:read'] } } },
        { name: 'old-check', require: {} },
      ],
    });
    const verdict = engine.evaluate(requestOf({ path: '/reports' }), tokenOf());
    assert.equal(verdict.kind, 'allow');
    assert.deepEqual(verdict.origin, { policy: 'default', rule: 'old-check' });
    assert.deepEqual(verdict.shadow, {
      kind: 'deny',
      reason: 'insufficient_scope',
      policy: 'default',
      rule: 'new-check',
    });
    assert.equal(verdict.scope, undefined);
  });

  test('a shadow rule with no enforced rule after it falls to the unmatched default', () => {
    const engine = engineOf({ rules: [{ mode: 'shadow', allow: 'anonymous' }] });
    const verdict = engine.evaluate(requestOf(), undefined);
    assert.equal(verdict.reason, 'no_matching_rule');
    assert.equal(verdict.shadow?.kind, 'allow');
  });

  test('a shadow policy is logged while its fallback policy decides', () => {
    const engine = engineOf({
      rules: [{ name: 'legacy', require: {} }],
      named: {
        v2: { mode: 'shadow', rules: [{ name: 'strict', deny: true }] },
        v3: { mode: 'shadow', fallback: 'open', rules: [{ require: {} }] },
        open: { rules: [{ name: 'all', allow: 'anonymous' }] },
      },
    });
    const v2 = engine.evaluate(
      requestOf({ contextExtensions: { 'tokengate.policy': 'v2' } }),
      tokenOf(),
    );
    assert.equal(v2.kind, 'allow');
    assert.deepEqual(v2.origin, { policy: 'default', rule: 'legacy' });
    assert.deepEqual(v2.shadow, {
      kind: 'deny',
      reason: 'policy_denied',
      policy: 'v2',
      rule: 'strict',
    });

    const v3 = engine.evaluate(
      requestOf({ contextExtensions: { 'tokengate.policy': 'v3' } }),
      undefined,
    );
    assert.equal(v3.reason, 'anonymous');
    assert.equal(v3.shadow?.reason, 'token_missing');
  });
});

describe('explain', () => {
  test('tells which rules were skipped and why, and which one decided', () => {
    const engine = engineOf({
      rules: [
        { name: 'writes', match: { methods: ['POST'] }, deny: true },
        { name: 'reads', require: { claims: [{ claim: 'tenant', equals: 'acme' }] } },
      ],
    });
    const { verdict, trace } = engine.explain(requestOf(), tokenOf({ tenant: 'acme' }));
    assert.equal(verdict.kind, 'allow');
    assert.ok(trace.some((line) => /rule writes: no match: method GET/.test(line)));
    assert.ok(trace.some((line) => /rule reads: claim condition holds/.test(line)));
  });
});
