import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createKey, signToken } from '../support/tokens.js';
import {
  AUDIENCE,
  bearer,
  ISSUER,
  parseExposition,
  scrape,
  startObserved,
  valueOf,
  type ObservedTokengate,
  type Sample,
} from './fixture.js';

/** Every metric tokengate itself defines, with its type and label names. */
const EXPECTED: Record<string, { type: string; labels: string[] }> = {
  tokengate_checks_total: { type: 'counter', labels: ['decision', 'reason', 'issuer', 'policy'] },
  tokengate_check_duration_seconds: { type: 'histogram', labels: ['decision', 'le'] },
  tokengate_grpc_inflight_checks: { type: 'gauge', labels: [] },
  tokengate_jwks_refreshes_total: { type: 'counter', labels: ['issuer', 'result'] },
  tokengate_jwks_keys: { type: 'gauge', labels: ['issuer'] },
  tokengate_jwks_last_success_age_seconds: { type: 'gauge', labels: ['issuer'] },
  tokengate_token_cache_entries: { type: 'gauge', labels: [] },
  tokengate_token_cache_hits_total: { type: 'counter', labels: [] },
  tokengate_token_cache_misses_total: { type: 'counter', labels: [] },
  tokengate_config_info: { type: 'gauge', labels: ['hash'] },
  tokengate_config_reloads_total: { type: 'counter', labels: ['result'] },
  tokengate_introspection_requests_total: { type: 'counter', labels: ['issuer', 'result'] },
  tokengate_ready: { type: 'gauge', labels: [] },
  tokengate_memory_soft_limit_bytes: { type: 'gauge', labels: [] },
  tokengate_memory_soft_limit_active: { type: 'gauge', labels: [] },
};

describe('metrics after a known sequence of checks', () => {
  let observed: ObservedTokengate;
  let types: Map<string, string>;
  let samples: Sample[];

  before(async () => {
    observed = await startObserved();
    const { client } = observed;
    const good = await observed.token();
    const expired = await observed.token({ expiresIn: -3600 });
    const stranger = await signToken(await createKey('ES256'), {
      issuer: ISSUER,
      audience: AUDIENCE,
      subject: 'mallory',
    });

    for (let i = 0; i < 3; i++) await client.check({ headers: bearer(good) });
    for (let i = 0; i < 2; i++) await client.check();
    await client.check({ headers: bearer(expired) });
    await client.check({ headers: bearer(stranger) });

    ({ types, samples } = parseExposition(await scrape(observed.tokengate.httpAddress)));
  });

  after(() => observed?.stop());

  test('exports every tokengate metric with its type', () => {
    for (const [name, { type }] of Object.entries(EXPECTED)) {
      assert.equal(types.get(name), type, name);
    }
  });

  test('uses only the declared label names on every tokengate sample', () => {
    for (const sample of samples.filter((s) => s.name.startsWith('tokengate_'))) {
      const base = sample.name.replace(/_(bucket|sum|count)$/, '');
      const spec = EXPECTED[sample.name] ?? EXPECTED[base];
      if (spec === undefined) continue;
      for (const label of Object.keys(sample.labels)) {
        assert.ok(spec.labels.includes(label), `${sample.name} has label ${label}`);
      }
    }
  });

  test('counts allows and denies by reason, issuer and policy', () => {
    const checks = 'tokengate_checks_total';
    assert.equal(
      valueOf(samples, checks, { decision: 'allow', reason: 'allowed', issuer: 'corp' }),
      3,
    );
    assert.equal(valueOf(samples, checks, { decision: 'deny', reason: 'token_missing' }), 2);
    assert.equal(valueOf(samples, checks, { decision: 'deny', reason: 'token_expired' }), 1);
    assert.equal(valueOf(samples, checks, { decision: 'deny', reason: 'key_not_found' }), 1);
    const total = samples.filter((s) => s.name === checks).reduce((sum, s) => sum + s.value, 0);
    assert.equal(total, 7);
  });

  test('observes one latency per check in the histogram', () => {
    const count = 'tokengate_check_duration_seconds_count';
    assert.equal(valueOf(samples, count, { decision: 'allow' }), 3);
    assert.equal(valueOf(samples, count, { decision: 'deny' }), 4);
    const smallest = valueOf(samples, 'tokengate_check_duration_seconds_bucket', {
      decision: 'allow',
      le: '5e-05',
    });
    assert.ok(smallest <= 3);
    assert.equal(
      valueOf(samples, 'tokengate_check_duration_seconds_bucket', { decision: 'allow', le: '1' }),
      3,
    );
  });

  test('reports the cache, the keys and readiness', () => {
    assert.equal(valueOf(samples, 'tokengate_token_cache_hits_total'), 2);
    assert.equal(valueOf(samples, 'tokengate_token_cache_entries'), 1);
    assert.equal(valueOf(samples, 'tokengate_jwks_keys', { issuer: 'corp' }), 1);
    assert.equal(valueOf(samples, 'tokengate_jwks_refreshes_total', { result: 'updated' }), 1);
    assert.ok(valueOf(samples, 'tokengate_jwks_last_success_age_seconds', { issuer: 'corp' }) >= 0);
    assert.equal(valueOf(samples, 'tokengate_ready'), 1);
    assert.equal(valueOf(samples, 'tokengate_grpc_inflight_checks'), 0);
  });

  test('names the loaded config by its hash and has no introspection series yet', () => {
    const info = samples.filter((s) => s.name === 'tokengate_config_info');
    assert.equal(info.length, 1);
    assert.match(info[0]!.labels.hash!, /^[0-9a-f]+$/);
    assert.equal(
      samples.filter((s) => s.name === 'tokengate_introspection_requests_total').length,
      0,
    );
  });

  test('includes the default Node.js process metrics', () => {
    assert.ok(types.has('process_cpu_seconds_total'));
    assert.ok(types.has('nodejs_eventloop_lag_seconds'));
  });

  test('answers in OpenMetrics when the scraper asks for it', async () => {
    const response = await fetch(`http://${observed.tokengate.httpAddress}/metrics`, {
      headers: { accept: 'application/openmetrics-text; version=1.0.0' },
    });
    assert.match(response.headers.get('content-type') ?? '', /application\/openmetrics-text/);
    assert.match(await response.text(), /# EOF\n?$/);
  });
});

describe('metrics switched off', () => {
  test('serves no /metrics and still answers checks', async () => {
    const observed = await startObserved({ metrics: { enabled: false } });
    try {
      const response = await observed.client.check({ headers: bearer(await observed.token()) });
      assert.equal(response.status.code, 0);
      const metrics = await fetch(`http://${observed.tokengate.httpAddress}/metrics`);
      assert.equal(metrics.status, 404);
    } finally {
      await observed.stop();
    }
  });
});
