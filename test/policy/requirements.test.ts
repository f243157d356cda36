import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { claimAt, conditionHolds, missingScopes, scopesOf } from '../../src/policy/requirements.js';

describe('scopes', () => {
  test('reads a space-separated scope string', () => {
    assert.deepEqual(
      [...scopesOf({ scope: 'orders:read  orders:write' })],
      ['orders:read', 'orders:write'],
    );
  });

  test('reads an scp array, and an scp string', () => {
    assert.deepEqual([...scopesOf({ scp: ['a', 'b', 7] })], ['a', 'b']);
    assert.deepEqual([...scopesOf({ scp: 'a b' })], ['a', 'b']);
  });

  test('merges scope and scp when a token has both', () => {
    assert.deepEqual([...scopesOf({ scope: 'a', scp: ['b'] })].sort(), ['a', 'b']);
  });

  test('allOf needs every scope and names all of them when one is missing', () => {
    assert.equal(missingScopes({ allOf: ['a', 'b'] }, { scope: 'b a c' }), undefined);
    assert.equal(missingScopes({ allOf: ['a', 'b'] }, { scope: 'a' }), 'a b');
  });

  test('anyOf needs one of the scopes', () => {
    assert.equal(missingScopes({ anyOf: ['a', 'b'] }, { scp: ['b'] }), undefined);
    assert.equal(missingScopes({ anyOf: ['a', 'b'] }, { scp: ['c'] }), 'a b');
    assert.equal(missingScopes({ anyOf: ['a'] }, {}), 'a');
  });

  test('a scope is never matched by substring', () => {
    assert.equal(missingScopes({ allOf: ['orders'] }, { scope: 'orders:read' }), 'orders');
  });
});

describe('claim conditions', () => {
  const claims = {
    tenant: 'acme',
    level: 3,
    staff: true,
    roles: ['admin', 'ops'],
    groups: 'eng sre',
    realm_access: { roles: ['auditor'] },
    'https://example.com/tier': 'gold',
  };

  test('equals compares strings, numbers and booleans strictly', () => {
    assert.equal(conditionHolds({ claim: 'tenant', equals: 'acme' }, claims), true);
    assert.equal(conditionHolds({ claim: 'tenant', equals: 'ACME' }, claims), false);
    assert.equal(conditionHolds({ claim: 'level', equals: 3 }, claims), true);
    assert.equal(conditionHolds({ claim: 'level', equals: '3' }, claims), false);
    assert.equal(conditionHolds({ claim: 'staff', equals: true }, claims), true);
  });

  test('oneOf holds when the claim is one of the values', () => {
    assert.equal(conditionHolds({ claim: 'tenant', oneOf: ['x', 'acme'] }, claims), true);
    assert.equal(conditionHolds({ claim: 'tenant', oneOf: ['x'] }, claims), false);
    assert.equal(conditionHolds({ claim: 'roles', oneOf: ['admin'] }, claims), false);
  });

  test('contains looks into arrays and space-separated strings', () => {
    assert.equal(conditionHolds({ claim: 'roles', contains: 'ops' }, claims), true);
    assert.equal(conditionHolds({ claim: 'roles', contains: 'root' }, claims), false);
    assert.equal(conditionHolds({ claim: 'groups', contains: 'sre' }, claims), true);
    assert.equal(conditionHolds({ claim: 'groups', contains: 'en' }, claims), false);
  });

  test('an absent claim satisfies no condition', () => {
    assert.equal(conditionHolds({ claim: 'missing', oneOf: ['x'] }, claims), false);
    assert.equal(conditionHolds({ claim: 'missing', contains: 'x' }, claims), false);
  });

  test('a claim name is looked up as written first, then as a dotted path', () => {
    assert.deepEqual(claimAt(claims, 'realm_access.roles'), ['auditor']);
    assert.equal(claimAt(claims, 'https://example.com/tier'), 'gold');
    assert.equal(claimAt(claims, 'roles.length'), undefined);
    assert.equal(claimAt(claims, 'tenant.constructor'), undefined);
  });
});
