import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  matchesPattern,
  parsePathPattern,
  prefixSegments,
  splitPath,
} from '../../src/policy/path-pattern.js';

const fits = (pattern: string, path: string) =>
  matchesPattern(parsePathPattern(pattern), splitPath(path));

describe('path patterns', () => {
  test('an exact path matches itself only, a trailing slash being another path', () => {
    assert.equal(fits('/orders', '/orders'), true);
    assert.equal(fits('/orders', '/orders/'), false);
    assert.equal(fits('/orders', '/orders/1'), false);
    assert.equal(fits('/', '/'), true);
    assert.equal(fits('/', '/a'), false);
  });

  test('a {name} or * segment matches exactly one non-empty segment', () => {
    for (const pattern of ['/orders/{id}', '/orders/*']) {
      assert.equal(fits(pattern, '/orders/42'), true);
      assert.equal(fits(pattern, '/orders/'), false);
      assert.equal(fits(pattern, '/orders'), false);
      assert.equal(fits(pattern, '/orders/42/items'), false);
    }
    assert.equal(fits('/orders/{id}/items', '/orders/42/items'), true);
  });

  test('a final ** matches the rest, including nothing', () => {
    assert.equal(fits('/files/**', '/files'), true);
    assert.equal(fits('/files/**', '/files/a/b/c'), true);
    assert.equal(fits('/files/**', '/filesystem'), false);
    assert.equal(fits('/**', '/anything/at/all'), true);
  });

  test('rejects ** before the end, mixed segments and relative paths', () => {
    assert.match(parsePathPattern('/a/**/b').problem!, /last segment/);
    assert.match(parsePathPattern('/a/x{id}').problem!, /mixes/);
    assert.match(parsePathPattern('orders').problem!, /starting with/);
    assert.equal(parsePathPattern('/a/{id}/b').problem, undefined);
  });

  test('keys the index on leading literal segments and full prefix segments', () => {
    assert.deepEqual(parsePathPattern('/api/v1/{id}/x').literalPrefix, ['api', 'v1']);
    assert.deepEqual(prefixSegments('/static/'), ['static']);
    assert.deepEqual(prefixSegments('/stat'), []);
  });
});
