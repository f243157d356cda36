import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startPrometheus, type RunningPrometheus } from '../support/prometheus.js';
import { suiteTool } from '../support/tools.js';
import { bearer, startObserved, type ObservedTokengate } from '../observability/fixture.js';

const [prometheusBin, missing] = suiteTool('prometheus');

describe('a real Prometheus scraping tokengate', { skip: missing }, () => {
  let observed: ObservedTokengate;
  let prometheus: RunningPrometheus;

  const countsBy = (result: { metric: Record<string, string>; value: [number, string] }[]) =>
    Object.fromEntries(result.map((r) => [r.metric.decision, Number(r.value[1])]));

  before(async () => {
    observed = await startObserved();
    const token = await observed.token();
    for (let i = 0; i < 3; i++) await observed.client.check({ headers: bearer(token) });
    for (let i = 0; i < 2; i++) await observed.client.check();

    prometheus = await startPrometheus({
      bin: prometheusBin!,
      targets: [observed.tokengate.httpAddress],
    });
  });

  after(async () => {
    await prometheus?.stop();
    await observed?.stop();
  });

  test('scrapes the target successfully', async () => {
    const up = await prometheus.waitFor('up{job="tokengate"}', (result) =>
      result.length === 1 && result[0]!.value[1] === '1' ? result[0] : undefined,
    );
    assert.equal(up.metric.instance, observed.tokengate.httpAddress);
  });

  test('returns the allow and deny counts through PromQL', async () => {
    const counts = await prometheus.waitFor(
      'sum by (decision) (tokengate_checks_total{job="tokengate"})',
      (result) => (result.length === 2 ? countsBy(result) : undefined),
    );
    assert.deepEqual(counts, { allow: 3, deny: 2 });
  });

  test('sees later checks on a later scrape, by reason', async () => {
    const token = await observed.token();
    for (let i = 0; i < 4; i++) await observed.client.check({ headers: bearer(token) });
    await observed.client.check({ headers: bearer(await observed.token({ expiresIn: -600 })) });

    const reasons = await prometheus.waitFor(
      'sum by (reason) (tokengate_checks_total{job="tokengate"})',
      (result) => {
        const byReason: Record<string, number> = Object.fromEntries(
          result.map((r) => [r.metric.reason, Number(r.value[1])]),
        );
        return byReason.allowed === 7 ? byReason : undefined;
      },
    );
    assert.equal(reasons.token_missing, 2);
    assert.equal(reasons.token_expired, 1);
    assert.equal(
      Object.values(reasons).reduce((a, b) => a + b, 0),
      10,
    );
  });

  test('computes a latency quantile from the histogram', async () => {
    const p99 = await prometheus.waitFor(
      'histogram_quantile(0.99, sum by (le) (tokengate_check_duration_seconds_bucket{job="tokengate"}))',
      (result) => (result.length === 1 ? Number(result[0]!.value[1]) : undefined),
    );
    assert.ok(p99 > 0 && p99 <= 1, `p99 ${p99}`);
  });
});
