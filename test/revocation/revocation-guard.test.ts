import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import { TokengateError } from '../../src/decision/errors.js';
import { buildEntry } from '../../src/revocation/entry.js';
import { MemoryStore } from '../../src/revocation/memory-store.js';
import { RevocationGuard } from '../../src/revocation/revocation-guard.js';
import type { RevocationStore } from '../../src/revocation/store.js';
import type { VerifiedToken } from '../../src/tokens/verified-token.js';

const ISS = 'https://login.example.test/';
const START = Date.UTC(2026, 0, 1, 12, 0, 0);
const silent = pino({ level: 'silent' });

function clock() {
  let now = START;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

function verified(claims: Record<string, unknown>): VerifiedToken {
  return {
    issuer: 'corp',
    claims: { iss: ISS, iat: START / 1000 - 10, exp: START / 1000 + 300, ...claims },
    header: { alg: 'RS256' },
    digest: 'd',
    fingerprint: 'f',
    signingInputDigest: 'sid',
  };
}

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    return error instanceof TokengateError ? error.code : 'other';
  }
  return undefined;
}

async function asyncCodeOf(run: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await run();
  } catch (error) {
    return error instanceof TokengateError ? error.code : 'other';
  }
  return undefined;
}

/** A store whose mirror was last current at a time the test sets, and whose claims fail. */
function staleStore(time: ReturnType<typeof clock>, syncedAt: number | undefined) {
  const inner = new MemoryStore(100, time.now);
  const store: RevocationStore = Object.assign(Object.create(inner) as MemoryStore, {
    syncedAt: () => syncedAt,
    claim: async () => {
      throw new Error('redis is not connected');
    },
  });
  return { store, inner };
}

/** A guard as the tests use it: stale after 5 s, no clock skew, on the test's clock. */
function guardOf(
  store: RevocationStore,
  time: { now: () => number },
  mode: 'failClosed' | 'failOpen',
) {
  return new RevocationGuard(store, {
    staleAfter: 5_000,
    mode,
    clockSkewOf: () => 0,
    log: silent,
    now: time.now,
  });
}

describe('the revocation guard', () => {
  test('denies a revoked token with token_revoked and lets others pass', async () => {
    const time = clock();
    const store = new MemoryStore(100, time.now);
    await store.put(
      buildEntry(
        { kind: 'jti', issuer: ISS, value: 'j1' },
        { clockSkew: 0, maxLifetime: 60_000 },
        START,
      ),
    );
    const guard = guardOf(store, time, 'failClosed');

    assert.equal(
      codeOf(() => guard.assertNotRevoked(verified({ jti: 'j1' }))),
      'token_revoked',
    );
    assert.equal(
      codeOf(() => guard.assertNotRevoked(verified({ jti: 'j2' }))),
      undefined,
    );
  });

  test('denies with revocation_unavailable once the mirror is older than staleAfter in failClosed', () => {
    const time = clock();
    const { store } = staleStore(time, START);
    const guard = guardOf(store, time, 'failClosed');

    assert.equal(
      codeOf(() => guard.assertNotRevoked(verified({ jti: 'j2' }))),
      undefined,
    );
    assert.equal(guard.readinessProblem(), undefined);
    time.advance(5_001);
    assert.equal(
      codeOf(() => guard.assertNotRevoked(verified({ jti: 'j2' }))),
      'revocation_unavailable',
    );
    assert.equal(guard.readinessProblem(), 'revocation mirror is stale');
  });

  test('allows and counts with a stale mirror in failOpen, still denying what it knows', async () => {
    const time = clock();
    const { store, inner } = staleStore(time, START);
    await inner.put(
      buildEntry(
        { kind: 'subject', issuer: ISS, value: 'mallory' },
        { clockSkew: 0, maxLifetime: 600_000 },
        START,
      ),
    );
    const guard = guardOf(store, time, 'failOpen');
    time.advance(60_000);

    assert.equal(
      codeOf(() => guard.assertNotRevoked(verified({ sub: 'alice' }))),
      undefined,
    );
    assert.equal(
      codeOf(() => guard.assertNotRevoked(verified({ sub: 'alice' }))),
      undefined,
    );
    assert.equal(guard.failOpenAllows, 2);
    assert.equal(
      codeOf(() => guard.assertNotRevoked(verified({ sub: 'mallory' }))),
      'token_revoked',
    );
    assert.equal(
      guard.readinessProblem(),
      undefined,
      'failOpen never reports a stale mirror as unready',
    );
  });

  test('treats a mirror never loaded as stale', () => {
    const time = clock();
    const { store } = staleStore(time, undefined);
    const guard = guardOf(store, time, 'failClosed');
    assert.equal(guard.mirrorAge(), Infinity);
    assert.equal(
      codeOf(() => guard.assertNotRevoked(verified({}))),
      'revocation_unavailable',
    );
  });

  test('claims a one-time token once and denies its second use with token_reused', async () => {
    const time = clock();
    const guard = guardOf(new MemoryStore(100, time.now), time, 'failOpen');
    const token = verified({ jti: 'once' });
    assert.equal(await asyncCodeOf(() => guard.claimOneTimeUse(token)), undefined);
    assert.equal(await asyncCodeOf(() => guard.claimOneTimeUse(token)), 'token_reused');
    assert.equal(
      await asyncCodeOf(() => guard.claimOneTimeUse(verified({ jti: 'other' }))),
      undefined,
    );
  });

  test('claims a token without jti by its signing-input digest', async () => {
    const time = clock();
    const guard = guardOf(new MemoryStore(100, time.now), time, 'failOpen');
    assert.equal(await asyncCodeOf(() => guard.claimOneTimeUse(verified({}))), undefined);
    assert.equal(await asyncCodeOf(() => guard.claimOneTimeUse(verified({}))), 'token_reused');
  });

  test('fails one-time use closed when the store cannot answer, even in failOpen', async () => {
    const time = clock();
    const { store } = staleStore(time, START);
    const guard = guardOf(store, time, 'failOpen');
    assert.equal(
      await asyncCodeOf(() => guard.claimOneTimeUse(verified({ jti: 'x' }))),
      'revocation_unavailable',
    );
  });
});

describe('the memory store', () => {
  test('forgets a one-time claim once its time is up', async () => {
    const time = clock();
    const store = new MemoryStore(100, time.now);
    assert.equal(await store.claim('k', 1_000), true);
    assert.equal(await store.claim('k', 1_000), false);
    time.advance(1_001);
    store.sweep();
    assert.equal(await store.claim('k', 1_000), true);
  });

  test('refuses a revoke past maxEntries', async () => {
    const time = clock();
    const store = new MemoryStore(1, time.now);
    const lifetime = { clockSkew: 0, maxLifetime: 60_000 };
    await store.put(buildEntry({ kind: 'jti', issuer: ISS, value: 'a' }, lifetime, START));
    await assert.rejects(
      store.put(buildEntry({ kind: 'jti', issuer: ISS, value: 'b' }, lifetime, START)),
      { code: 'store_full' },
    );
  });
});
