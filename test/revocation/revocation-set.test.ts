import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildEntry, entryKey } from '../../src/revocation/entry.js';
import {
  filterEntries,
  RevocationSet,
  type RevocableToken,
} from '../../src/revocation/revocation-set.js';

const NOW = Date.UTC(2026, 0, 1, 12, 0, 0);
const LIFETIME = { clockSkew: 0, maxLifetime: 3_600_000 };
const ISS = 'https://login.example.test/';

function token(claims: Record<string, unknown>, signingInputDigest?: string): RevocableToken {
  return { claims: { iss: ISS, iat: NOW / 1000 - 60, ...claims }, signingInputDigest };
}

function setWith(...requests: Parameters<typeof buildEntry>[0][]): RevocationSet {
  const set = new RevocationSet();
  for (const request of requests) set.put(buildEntry(request, LIFETIME, NOW));
  return set;
}

describe('the revocation set', () => {
  test('finds a token revoked by iss and jti, and not one of another issuer', () => {
    const set = setWith({ kind: 'jti', issuer: ISS, value: 'j1' });
    assert.equal(set.findFor(token({ jti: 'j1' }), NOW), 'jti');
    assert.equal(set.findFor(token({ jti: 'j2' }), NOW), undefined);
    assert.equal(set.findFor(token({ jti: 'j1', iss: 'https://other.test/' }), NOW), undefined);
  });

  test('finds a token without jti by the digest of its signing input', () => {
    const set = setWith({ kind: 'digest', issuer: ISS, value: 'abc' });
    assert.equal(set.findFor(token({}, 'abc'), NOW), 'digest');
    assert.equal(set.findFor(token({}, 'abd'), NOW), undefined);
  });

  test('revokes tokens of a subject issued before the cut-off and not those issued after', () => {
    const set = setWith({ kind: 'subject', issuer: ISS, value: 'alice', before: NOW });
    assert.equal(set.findFor(token({ sub: 'alice', iat: NOW / 1000 - 1 }), NOW), 'subject');
    assert.equal(set.findFor(token({ sub: 'alice', iat: NOW / 1000 + 1 }), NOW), undefined);
    assert.equal(set.findFor(token({ sub: 'bob' }), NOW), undefined);
  });

  test('treats a token without iat as issued before a subject or client cut-off', () => {
    const set = setWith({ kind: 'client', issuer: ISS, value: 'app', before: NOW });
    assert.equal(set.findFor(token({ client_id: 'app', iat: undefined }), NOW), 'client');
  });

  test('revokes tokens of a client issued before the cut-off', () => {
    const set = setWith({ kind: 'client', issuer: ISS, value: 'app', before: NOW });
    assert.equal(set.findFor(token({ client_id: 'app' }), NOW), 'client');
    assert.equal(set.findFor(token({ client_id: 'app', iat: NOW / 1000 + 5 }), NOW), undefined);
  });

  test('ignores and prunes entries past their expiry', () => {
    const set = setWith(
      { kind: 'jti', issuer: ISS, value: 'old', tokenExpiresAt: NOW + 1_000 },
      { kind: 'jti', issuer: ISS, value: 'new' },
      { kind: 'subject', issuer: ISS, value: 'alice', before: NOW - 3_599_000 },
    );
    const later = NOW + 2_000;
    assert.equal(set.findFor(token({ jti: 'old' }), later), undefined);
    assert.equal(set.findFor(token({ jti: 'new' }), later), 'jti');
    assert.equal(set.prune(later), 2);
    assert.equal(set.size, 1);
  });

  test('counts each key once, deletes by key and replaces everything at once', () => {
    const set = setWith(
      { kind: 'jti', issuer: ISS, value: 'j1' },
      { kind: 'jti', issuer: ISS, value: 'j1' },
    );
    assert.equal(set.size, 1);
    assert.equal(set.delete(entryKey('jti', ISS, 'j1')), true);
    assert.equal(set.delete(entryKey('jti', ISS, 'j1')), false);
    assert.equal(set.size, 0);
    assert.equal(set.findFor(token({ jti: 'j1' }), NOW), undefined);

    const next = setWith({ kind: 'jti', issuer: ISS, value: 'j9' });
    set.replaceWith(next);
    assert.equal(set.size, 1);
    assert.equal(set.findFor(token({ jti: 'j9' }), NOW), 'jti');
  });

  test('lists by issuer and kind, oldest revocation first', () => {
    const entries = [
      buildEntry({ kind: 'subject', issuer: ISS, value: 'alice' }, LIFETIME, NOW + 1),
      buildEntry({ kind: 'jti', issuer: ISS, value: 'j1' }, LIFETIME, NOW),
      buildEntry({ kind: 'subject', issuer: 'https://other.test/', value: 'bob' }, LIFETIME, NOW),
    ];
    assert.deepEqual(
      filterEntries(entries, { kind: 'subject' }, NOW).map((entry) => entry.value),
      ['bob', 'alice'],
    );
    assert.equal(filterEntries(entries, { kind: 'subject', issuer: ISS }, NOW).length, 1);
  });
});
