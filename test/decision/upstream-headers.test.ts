import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { planUpstreamHeaders } from '../../src/decision/upstream-headers.js';

const MAP = {
  'x-auth-subject': 'sub',
  'x-auth-issuer': 'iss',
  'x-auth-scopes': 'scope',
  'x-auth-groups': 'groups',
};

describe('planUpstreamHeaders', () => {
  test('sets a header for each mapped claim that is present', () => {
    const plan = planUpstreamHeaders(
      MAP,
      { sub: 'alice', iss: 'https://i/', scope: 'a b', groups: ['x'] },
      false,
    );
    assert.deepEqual(plan.set, [
      ['x-auth-subject', 'alice'],
      ['x-auth-issuer', 'https://i/'],
      ['x-auth-scopes', 'a b'],
      ['x-auth-groups', 'x'],
    ]);
    assert.deepEqual(plan.remove, []);
  });

  test('removes each mapped header whose claim is absent, so a client cannot supply it', () => {
    const plan = planUpstreamHeaders(MAP, { sub: 'alice' }, false);
    assert.deepEqual(plan.set, [['x-auth-subject', 'alice']]);
    assert.deepEqual(plan.remove, ['x-auth-issuer', 'x-auth-scopes', 'x-auth-groups']);
  });

  test('removes every mapped header when there is no token', () => {
    const plan = planUpstreamHeaders(MAP, undefined, false);
    assert.deepEqual(plan.set, []);
    assert.deepEqual(plan.remove, Object.keys(MAP));
  });

  test('joins arrays of strings and numbers with spaces, and writes numbers and booleans as text', () => {
    const plan = planUpstreamHeaders(
      { 'x-a': 'list', 'x-n': 'n', 'x-b': 'b' },
      { list: ['admin', 7, 'ops'], n: 42, b: false },
      false,
    );
    assert.deepEqual(plan.set, [
      ['x-a', 'admin 7 ops'],
      ['x-n', '42'],
      ['x-b', 'false'],
    ]);
  });

  test('drops objects, nested arrays and null instead of setting them', () => {
    const plan = planUpstreamHeaders(
      { 'x-o': 'o', 'x-nested': 'nested', 'x-null': 'nil' },
      { o: { a: 1 }, nested: [['a']], nil: null },
      false,
    );
    assert.deepEqual(plan.set, []);
    assert.deepEqual(plan.remove, ['x-o', 'x-nested', 'x-null']);
  });

  test('drops values with CR, LF or other control characters', () => {
    for (const sub of ['alice\r\nx-admin: true', 'alice\n', 'a\rb', 'a\u0000b', ['a', 'b\nc']]) {
      const plan = planUpstreamHeaders({ 'x-auth-subject': 'sub' }, { sub } as never, false);
      assert.deepEqual(plan.set, [], JSON.stringify(sub));
      assert.deepEqual(plan.remove, ['x-auth-subject']);
    }
  });

  test('removes authorization when asked', () => {
    assert.ok(planUpstreamHeaders({}, { sub: 'a' }, true).remove.includes('authorization'));
    assert.ok(!planUpstreamHeaders({}, { sub: 'a' }, false).remove.includes('authorization'));
  });
});
