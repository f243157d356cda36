import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { buildEntry, entryKey, type EntryRequest } from '../../src/revocation/entry.js';
import { RedisStore, type RedisStoreOptions } from '../../src/revocation/redis-store.js';
import { RevocationGuard } from '../../src/revocation/revocation-guard.js';
import type { VerifiedToken } from '../../src/tokens/verified-token.js';
import { startRedis, type RunningRedis } from '../support/redis.js';
import { suiteTool } from '../support/tools.js';

const ISS = 'https://login.example.test/';
const LIFETIME = { clockSkew: 0, maxLifetime: 600_000 };
const silent = pino({ level: 'silent' });

const [redisBin, missing] = suiteTool('redis-server');

function token(claims: Record<string, unknown>): VerifiedToken {
  const now = Math.floor(Date.now() / 1000);
  return {
    issuer: 'corp',
    claims: { iss: ISS, iat: now - 10, exp: now + 300, ...claims },
    header: { alg: 'RS256' },
    digest: 'd',
    fingerprint: 'f',
  };
}

/** Resolves once `test` holds, checking every 5 ms for at most `timeoutMs`; returns the wait. */
async function until(test: () => boolean, timeoutMs = 5_000): Promise<number> {
  const started = performance.now();
  while (!test()) {
    if (performance.now() - started > timeoutMs) throw new Error(`not true within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return performance.now() - started;
}

describe('the Redis store against a real redis-server', { skip: missing }, () => {
  let redis: RunningRedis;
  const stores: RedisStore[] = [];
  let prefix = 0;

  before(async () => {
    redis = await startRedis(redisBin!, { appendOnly: true });
  });

  after(async () => {
    for (const store of stores) await store.stop();
    await redis?.remove();
  });

  /** A store on the test's Redis (or the one `extra.url` names), stopped after the suite. */
  function storeOn(keyPrefix: string, extra: Partial<RedisStoreOptions> = {}): RedisStore {
    const store = new RedisStore({
      url: redis.url,
      keyPrefix,
      commandTimeout: 500,
      heartbeatInterval: 100,
      resyncInterval: 60_000,
      maxEntries: 1_000,
      log: silent,
      ...extra,
    });
    stores.push(store);
    return store;
  }

  /** Two replicas sharing one key prefix, both loaded. */
  async function replicas(
    extra: Partial<RedisStoreOptions> = {},
    keyPrefix = `t${++prefix}:`,
  ): Promise<[RedisStore, RedisStore]> {
    const pair: [RedisStore, RedisStore] = [storeOn(keyPrefix, extra), storeOn(keyPrefix, extra)];
    await Promise.all(pair.map((store) => store.start(5_000)));
    assert.ok(
      pair.every((store) => store.syncedAt() !== undefined),
      'both replicas loaded',
    );
    return pair;
  }

  const entry = (request: Omit<EntryRequest, 'issuer'>) =>
    buildEntry({ issuer: ISS, ...request }, LIFETIME, Date.now());

  for (const [kind, value, claims] of [
    ['jti', 'j-1', { jti: 'j-1' }],
    ['subject', 'alice', { sub: 'alice' }],
    ['client', 'billing-app', { client_id: 'billing-app' }],
  ] as const) {
    test(`propagates a revocation by ${kind} to a second replica within 1 s`, async () => {
      const [a, b] = await replicas();
      assert.equal(b.mirror.findFor(token(claims), Date.now()), undefined);

      const started = performance.now();
      await a.put(entry({ kind, value }));
      const waited = await until(() => b.mirror.findFor(token(claims), Date.now()) !== undefined);
      const total = performance.now() - started;
      console.log(
        `# propagation of a ${kind} revocation to a second replica: ${total.toFixed(1)} ms`,
      );
      assert.ok(total < 1_000, `took ${total} ms`);
      assert.ok(waited < 1_000);
      assert.ok(a.mirror.findFor(token(claims), Date.now()), 'the writing replica sees it at once');
    });
  }

  test('propagates an unrevoke to the other replica', async () => {
    const [a, b] = await replicas();
    await a.put(entry({ kind: 'jti', value: 'j-2' }));
    await until(() => b.mirror.size === 1);
    assert.equal(await a.remove(entryKey('jti', ISS, 'j-2')), true);
    await until(() => b.mirror.size === 0, 1_000);
    assert.equal(await a.remove(entryKey('jti', ISS, 'j-2')), false);
  });

  test('lets a one-time token be claimed once across two replicas', async () => {
    const [a, b] = await replicas();
    const results = await Promise.all([
      a.claim('once-1', 10_000),
      b.claim('once-1', 10_000),
      a.claim('once-1', 10_000),
    ]);
    assert.deepEqual(
      results.filter(Boolean).length,
      1,
      `exactly one claim wins, got ${results.join(',')}`,
    );
    assert.equal(await b.claim('once-2', 10_000), true);
  });

  test('heals a missed change message from the version heartbeat', async () => {
    const keyPrefix = `t${++prefix}:`;
    const [, b] = await replicas({}, keyPrefix);
    const raw = new Redis(redis.url);
    const sneaked = entry({ kind: 'jti', value: 'sneaked' });
    // A write whose change message never reached anyone.
    await raw
      .multi()
      .hset(`${keyPrefix}revocations`, entryKey('jti', ISS, 'sneaked'), JSON.stringify(sneaked))
      .incr(`${keyPrefix}revocations:version`)
      .exec();
    raw.disconnect();
    const waited = await until(
      () => b.mirror.findFor(token({ jti: 'sneaked' }), Date.now()) !== undefined,
    );
    assert.ok(waited < 1_000, `healed after ${waited} ms`);
  });

  test('keeps serving from the mirror while Redis is down, goes stale, and heals on reconnect', async () => {
    const [a, b] = await replicas();
    await a.put(entry({ kind: 'subject', value: 'mallory' }));
    await until(() => b.mirror.size === 1);
    const guard = new RevocationGuard(b, {
      staleAfter: 500,
      mode: 'failClosed',
      clockSkewOf: () => 0,
      log: silent,
    });

    await redis.stop({ kill: true });
    await until(() => !a.up && !b.up);
    assert.throws(() => guard.assertNotRevoked(token({ sub: 'mallory' })), {
      code: 'token_revoked',
    });
    assert.doesNotThrow(() => guard.assertNotRevoked(token({ sub: 'alice' })), 'fresh enough yet');
    await assert.rejects(a.claim('once-down', 10_000), { code: 'store_unavailable' });
    await assert.rejects(a.put(entry({ kind: 'jti', value: 'lost' })), {
      code: 'store_unavailable',
    });

    await until(() => guard.isStale(), 3_000);
    assert.throws(() => guard.assertNotRevoked(token({ sub: 'alice' })), {
      code: 'revocation_unavailable',
    });
    assert.equal(guard.readinessProblem(), 'revocation mirror is stale');

    await redis.restart();
    await until(() => a.up && b.up && !guard.isStale(), 10_000);
    assert.doesNotThrow(() => guard.assertNotRevoked(token({ sub: 'alice' })));
    assert.throws(() => guard.assertNotRevoked(token({ sub: 'mallory' })), {
      code: 'token_revoked',
    });

    await a.put(entry({ kind: 'jti', value: 'after-restart' }));
    await until(
      () => b.mirror.findFor(token({ jti: 'after-restart' }), Date.now()) !== undefined,
      1_000,
    );
  });

  test('loses no acknowledged revocation when Redis is killed and restarted with AOF', async () => {
    const keyPrefix = `t${++prefix}:`;
    const [a] = await replicas({}, keyPrefix);
    await a.put(entry({ kind: 'jti', value: 'durable' }));
    await a.put(entry({ kind: 'client', value: 'durable-app' }));
    assert.equal(await a.claim('durable-once', 60_000), true);

    await redis.stop({ kill: true });
    await redis.restart();

    const fresh = storeOn(keyPrefix);
    await fresh.start(5_000);
    assert.ok(fresh.mirror.findFor(token({ jti: 'durable' }), Date.now()));
    assert.ok(fresh.mirror.findFor(token({ client_id: 'durable-app' }), Date.now()));
    assert.equal(await fresh.claim('durable-once', 60_000), false, 'the claim survived too');
  });

  test('starts with a stale mirror when Redis is down, and loads it once Redis comes up', async () => {
    const late = await startRedis(redisBin!);
    await late.stop();
    const store = storeOn('late:', { url: late.url });
    try {
      await store.start(300);
      assert.equal(store.syncedAt(), undefined);
      assert.equal(store.up, false);

      await late.restart();
      await until(() => store.syncedAt() !== undefined, 10_000);
      await store.put(entry({ kind: 'jti', value: 'late' }));
      assert.ok(store.mirror.findFor(token({ jti: 'late' }), Date.now()));
    } finally {
      await store.stop();
      await late.remove();
    }
  });

  test('refuses a revoke past maxEntries', async () => {
    const [a] = await replicas({ maxEntries: 2 });
    await a.put(entry({ kind: 'jti', value: '1' }));
    await a.put(entry({ kind: 'jti', value: '2' }));
    await a.put(entry({ kind: 'jti', value: '2', reason: 'replacing an entry is fine' }));
    await assert.rejects(a.put(entry({ kind: 'jti', value: '3' })), { code: 'store_full' });
  });
});
