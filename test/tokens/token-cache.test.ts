import assert from 'node:assert/strict';
import { setTimeout as wait } from 'node:timers/promises';
import { describe, test } from 'node:test';
import { TokenCache } from '../../src/tokens/token-cache.js';
import type { VerifiedToken } from '../../src/tokens/verified-token.js';

function token(issuer: string, digest: string): VerifiedToken {
  return { issuer, claims: {}, header: { alg: 'RS256' }, digest, fingerprint: digest.slice(0, 16) };
}

describe('TokenCache', () => {
  test('keeps at most maxEntries, dropping the least recently used', () => {
    const cache = new TokenCache(2);
    cache.set('a', token('corp', 'a'), 60_000);
    cache.set('b', token('corp', 'b'), 60_000);
    assert.ok(cache.get('a'));
    cache.set('c', token('corp', 'c'), 60_000);
    assert.equal(cache.size, 2);
    assert.equal(cache.get('b'), undefined);
    assert.ok(cache.get('a') && cache.get('c'));
  });

  test('does not store an entry with no time left', () => {
    const cache = new TokenCache(10);
    cache.set('a', token('corp', 'a'), 0);
    cache.set('b', token('corp', 'b'), -5);
    assert.equal(cache.size, 0);
  });

  test('forgets an entry once its time to live has passed', async () => {
    const cache = new TokenCache(10);
    cache.set('a', token('corp', 'a'), 20);
    assert.ok(cache.get('a'));
    await wait(60);
    assert.equal(cache.get('a'), undefined);
  });

  test('drops the entries of one issuer only', () => {
    const cache = new TokenCache(10);
    cache.set('a', token('corp', 'a'), 60_000);
    cache.set('b', token('partner', 'b'), 60_000);
    cache.dropIssuer('corp');
    assert.equal(cache.get('a'), undefined);
    assert.ok(cache.get('b'));
  });

  test('stores nothing when disabled with maxEntries 0', () => {
    const cache = new TokenCache(0);
    cache.set('a', token('corp', 'a'), 60_000);
    assert.equal(cache.get('a'), undefined);
    assert.equal(cache.size, 0);
  });
});
