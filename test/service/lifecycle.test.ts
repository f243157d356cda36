import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { CHECK_SERVICE } from '../../src/grpc/protos.js';
import { LIVENESS_SERVICE } from '../../src/grpc/grpc-server.js';
import { HealthClient } from '../support/health.js';
import { JwksServer } from '../support/jwks-server.js';
import { CheckClient, startTokengate, type RunningTokengate } from '../support/tokengate.js';
import { createKey, jwksOf, signToken, type TestKey } from '../support/tokens.js';

const ISSUER = 'https://login.example.test/';
const AUDIENCE = 'orders-api';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(options: { jwksDown?: boolean; shutdown?: Record<string, string> } = {}) {
  const key = await createKey('ES256');
  const jwks = await new JwksServer(jwksOf(key)).start();
  cleanups.push(() => jwks.stop());
  if (options.jwksDown) await jwks.down();

  const tokengate = await startTokengate({
    issuers: [
      {
        name: 'corp',
        issuer: ISSUER,
        audiences: [AUDIENCE],
        jwks: { uri: jwks.uri, refreshInterval: '1h' },
        algorithms: ['ES256'],
      },
    ],
    ...(options.shutdown ? { shutdown: options.shutdown } : {}),
  });
  cleanups.push(() => tokengate.stop('SIGKILL'));
  const health = new HealthClient(tokengate.grpcAddress);
  cleanups.push(() => health.close());
  return { key, jwks, tokengate, health };
}

const token = (key: TestKey, subject: string) =>
  signToken(key, { issuer: ISSUER, audience: AUDIENCE, subject });

async function exitWithin(tokengate: RunningTokengate, ms: number) {
  const started = performance.now();
  const code = await Promise.race([
    tokengate.child.exited,
    new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), ms + 5_000).unref()),
  ]);
  return { code, elapsed: performance.now() - started };
}

describe('service lifecycle', () => {
  test('reports NOT_SERVING until the keys load, then SERVING without a restart', async () => {
    const { jwks, health } = await setup({ jwksDown: true });

    assert.equal(await health.check(''), 'NOT_SERVING');
    assert.equal(await health.check(CHECK_SERVICE), 'NOT_SERVING');
    assert.equal(await health.check(LIVENESS_SERVICE), 'SERVING', 'alive while not ready');

    const watch = health.watch('');
    await jwks.up();
    await watch.until('SERVING');
    watch.close();
    assert.deepEqual(watch.seen, ['NOT_SERVING', 'SERVING']);
    assert.equal(await health.check(CHECK_SERVICE), 'SERVING');
  });

  test('denies checks with keys_unavailable while the keys have not loaded', async () => {
    const { key, tokengate } = await setup({ jwksDown: true });
    const client = new CheckClient(tokengate.grpcAddress);
    cleanups.push(() => client.close());
    const response = await client.check({
      headers: { authorization: `Bearer ${await token(key, 'alice')}` },
    });
    assert.equal(response.status.code, 14);
    assert.equal(response.denied_response.status.code, 503);
    assert.equal(response.status.message, 'keys_unavailable');
  });

  test('on SIGTERM goes NOT_SERVING, finishes the checks in flight and exits 0', async () => {
    const { key, tokengate, health } = await setup({
      shutdown: { drainDelay: '3s', gracePeriod: '3s' },
    });
    const ready = health.watch('');
    await ready.until('SERVING');
    ready.close();
    const client = new CheckClient(tokengate.grpcAddress);
    cleanups.push(() => client.close());

    const tokens = await Promise.all(
      Array.from({ length: 200 }, (_, i) => token(key, `user-${i}`)),
    );
    const checks = tokens.map((t) => client.check({ headers: { authorization: `Bearer ${t}` } }));
    tokengate.child.process.kill('SIGTERM');
    const exit = exitWithin(tokengate, 6_000);

    await tokengate.child.waitForLine((line) => line.includes('"msg":"draining"'));
    assert.equal(await health.check(''), 'NOT_SERVING');
    assert.equal(await health.check(CHECK_SERVICE), 'NOT_SERVING');

    const results = await Promise.allSettled(checks);
    const failed = results.filter((r) => r.status === 'rejected' || r.value.status.code !== 0);
    const first = failed[0];
    const why =
      first?.status === 'rejected' ? String(first.reason) : JSON.stringify(first?.value.status);
    assert.equal(failed.length, 0, `${failed.length} of ${results.length} failed, first: ${why}`);

    const { code, elapsed } = await exit;
    assert.equal(code, 0);
    assert.ok(elapsed < 6_000, `exited after ${Math.round(elapsed)} ms`);
    assert.ok(tokengate.logs().some((line) => line.outcome === 'graceful'));

    const lines = tokengate.logs().map((line) => line.msg);
    const answeredWhileDraining = lines
      .slice(lines.indexOf('draining'))
      .filter((m) => m === 'decision');
    assert.ok(answeredWhileDraining.length > 0, 'some checks were still in flight at SIGTERM');
  });

  test('exits within the grace period even when a call never finishes', async () => {
    const { tokengate, health } = await setup({
      shutdown: { drainDelay: '0s', gracePeriod: '1500ms' },
    });
    // A health Watch is a stream the server never ends on its own.
    const watch = health.watch('');
    await watch.until('SERVING');

    const started = performance.now();
    tokengate.child.process.kill('SIGTERM');
    await watch.until('NOT_SERVING');
    const { code, elapsed } = await exitWithin(tokengate, 1_500);
    assert.equal(code, 0);
    assert.ok(elapsed >= 1_000, `forced shutdown waited only ${Math.round(elapsed)} ms`);
    assert.ok(
      performance.now() - started < 1_500 + 2_500,
      `exited after ${Math.round(elapsed)} ms`,
    );
    assert.ok(tokengate.logs().some((line) => line.outcome === 'forced'));
  });
});
