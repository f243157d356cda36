import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Histogram, Registry, type RegistryContentType } from 'prom-client';
import { allow, deny, type Decision } from '../../src/decision/decision.js';
import type { AuthzRequest } from '../../src/decision/request.js';
import { CHECK_BUCKETS, Metrics } from '../../src/observability/metrics.js';

const DURATION = 'tokengate_check_duration_seconds';
const request = {} as AuthzRequest;

/** The same histogram as prom-client builds it when every duration goes through its `observe`. */
function stockHistogram(): {
  registry: Registry<RegistryContentType>;
  histogram: Histogram<'decision'>;
} {
  const registry = new Registry<RegistryContentType>();
  const histogram = new Histogram({
    name: DURATION,
    help: 'Time from receiving a check to its decision.',
    labelNames: ['decision'] as const,
    buckets: CHECK_BUCKETS,
    registers: [registry],
  });
  return { registry, histogram };
}

/** Durations on, between and beyond the bucket bounds, and zero. */
const DURATIONS = [
  0, 0.00001, 0.00005, 0.000051, 0.0001, 0.00042, 0.00075, 0.001, 0.0031, 0.01, 0.5, 1, 1.5, 30,
];

function decisions(): [Decision, number][] {
  const caller = {
    issuer: 'corp',
    fingerprint: 'f',
    subject: 's',
    clientId: undefined,
    jti: undefined,
  };
  const origin = { policy: 'orders', rule: 'read' };
  return DURATIONS.flatMap((seconds, i): [Decision, number][] => [
    [allow({ caller, origin }), seconds],
    ...(i % 3 === 0
      ? [[deny('token_expired', { realm: 'r', caller }), seconds * 2] as [Decision, number]]
      : []),
  ]);
}

describe('check metrics counted on the check path', () => {
  test('the duration histogram exposes exactly what prom-client observing each check gives', async () => {
    const metrics = new Metrics({ processMetrics: false });
    const stock = stockHistogram();
    const compare = async () => {
      for (const type of [Registry.PROMETHEUS_CONTENT_TYPE, Registry.OPENMETRICS_CONTENT_TYPE]) {
        metrics.registry.setContentType(type as RegistryContentType);
        stock.registry.setContentType(type as RegistryContentType);
        assert.equal(
          await metrics.registry.getSingleMetricAsString(DURATION),
          await stock.registry.getSingleMetricAsString(DURATION),
        );
      }
      // The JSON form is what the workers' primary sums across workers.
      const json = async (registry: Registry<RegistryContentType>) =>
        (await registry.getMetricsAsJSON()).find((metric) => metric.name === DURATION);
      assert.deepEqual(await json(metrics.registry), await json(stock.registry));
    };

    await compare(); // no checks yet: no series on either side
    for (const [decision, seconds] of decisions()) {
      metrics.record(request, decision, seconds);
      stock.histogram.observe({ decision: decision.kind }, seconds);
    }
    await compare();
    // Scrapes report running totals, not what came since the last scrape.
    for (const [decision, seconds] of decisions().slice(0, 5)) {
      metrics.record(request, decision, seconds);
      stock.histogram.observe({ decision: decision.kind }, seconds);
    }
    await compare();
  });

  test('the check counter has one series per decision, reason, issuer and policy', async () => {
    const metrics = new Metrics({ processMetrics: false });
    const caller = { issuer: 'corp', fingerprint: 'f' };
    metrics.record(request, allow({ caller, origin: { policy: 'orders', rule: 'read' } }), 0.001);
    metrics.record(request, allow({ caller, origin: { policy: 'orders', rule: 'write' } }), 0.001);
    metrics.record(request, allow({ caller, origin: { policy: 'admin' } }), 0.001);
    metrics.record(request, deny('token_missing', { realm: 'r' }), 0.001);
    const counts = async () => {
      const metric = (await metrics.registry.getMetricsAsJSON()).find(
        (entry) => entry.name === 'tokengate_checks_total',
      );
      return Object.fromEntries(
        metric!.values.map((value) => [Object.values(value.labels).join('/'), value.value]),
      );
    };
    assert.deepEqual(await counts(), {
      'allow/allowed/corp/orders': 2,
      'allow/allowed/corp/admin': 1,
      'deny/token_missing//': 1,
    });
    metrics.record(request, deny('token_missing', { realm: 'r' }), 0.001);
    assert.deepEqual(await counts(), {
      'allow/allowed/corp/orders': 2,
      'allow/allowed/corp/admin': 1,
      'deny/token_missing//': 2,
    });
  });
});
