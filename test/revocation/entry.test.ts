import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildEntry, entryKey, keyOf, parseEntry } from '../../src/revocation/entry.js';

const NOW = Date.UTC(2026, 0, 1, 12, 0, 0);
const LIFETIME = { clockSkew: 30_000, maxLifetime: 3_600_000 };
const ISS = 'https://login.example.test/';

describe('revocation entries', () => {
  test('key an entry by kind, issuer and value, so kinds never collide', () => {
    assert.notEqual(entryKey('jti', ISS, 'alice'), entryKey('subject', ISS, 'alice'));
    assert.notEqual(entryKey('jti', ISS, 'a'), entryKey('jti', `${ISS}a`, ''));
    const entry = buildEntry({ kind: 'client', issuer: ISS, value: 'app' }, LIFETIME, NOW);
    assert.equal(keyOf(entry), entryKey('client', ISS, 'app'));
  });

  test('expire a token entry with the token exp plus clock skew', () => {
    const entry = buildEntry(
      { kind: 'jti', issuer: ISS, value: 'j1', tokenExpiresAt: NOW + 60_000 },
      LIFETIME,
      NOW,
    );
    assert.equal(entry.expiresAt, NOW + 60_000 + 30_000);
  });

  test('expire a token entry without a known exp after the longest lifetime plus skew', () => {
    const entry = buildEntry({ kind: 'jti', issuer: ISS, value: 'j1' }, LIFETIME, NOW);
    assert.equal(entry.expiresAt, NOW + 3_600_000 + 30_000);
  });

  test('never keep a token entry past the issuer lifetime, whatever exp is claimed', () => {
    const entry = buildEntry(
      { kind: 'digest', issuer: ISS, value: 'd', tokenExpiresAt: NOW + 86_400_000 * 365 },
      LIFETIME,
      NOW,
    );
    assert.equal(entry.expiresAt, NOW + 3_600_000 + 30_000);
  });

  test('expire a subject entry once every token issued before the cut-off has expired', () => {
    const entry = buildEntry({ kind: 'subject', issuer: ISS, value: 'alice' }, LIFETIME, NOW);
    assert.equal(entry.before, NOW);
    assert.equal(entry.expiresAt, NOW + 3_600_000 + 30_000);

    const earlier = buildEntry(
      { kind: 'client', issuer: ISS, value: 'app', before: NOW - 600_000 },
      LIFETIME,
      NOW,
    );
    assert.equal(earlier.expiresAt, NOW - 600_000 + 3_600_000 + 30_000);
  });

  test('refuse an empty value', () => {
    assert.throws(
      () => buildEntry({ kind: 'jti', issuer: ISS, value: '' }, LIFETIME, NOW),
      RangeError,
    );
  });

  test('read back only well-formed entries', () => {
    const entry = buildEntry({ kind: 'subject', issuer: ISS, value: 'alice' }, LIFETIME, NOW);
    assert.deepEqual(parseEntry(JSON.stringify(entry)), entry);
    assert.equal(parseEntry('{"kind":"everything","issuer":"x","value":"y"}'), undefined);
    assert.equal(parseEntry('not json'), undefined);
  });
});
