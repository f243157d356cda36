import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { parse } from 'yaml';
import { ROOT } from '../support/paths.js';
import { startRedis, type RunningRedis } from '../support/redis.js';
import { requireTool, suiteTool } from '../support/tools.js';
import { parseExposition, scrape, startObserved, type ObservedTokengate } from './fixture.js';

const run = promisify(execFile);
const RULES = join(ROOT, 'deploy/prometheus/tokengate-rules.yaml');
const RULE_TESTS = join(ROOT, 'deploy/prometheus/tokengate-rules.test.yaml');
const DASHBOARD = join(ROOT, 'deploy/grafana/tokengate.json');

/** Metric names in a PromQL expression: exported families, not recording rules or functions. */
function metricNames(expr: string): string[] {
  const names = expr.match(/(?<![\w:])(tokengate|process|nodejs)_[a-z0-9_]+\b(?!:)/g) ?? [];
  return [...new Set(names.map((name) => name.replace(/_(bucket|sum|count)$/, '')))];
}

interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  targets?: { expr: string; refId: string }[];
}

describe('alert rules under promtool', () => {
  test('pass promtool check rules', async (t) => {
    const promtool = requireTool(t, 'promtool');
    if (promtool === undefined) return;
    const { stdout } = await run(promtool, ['check', 'rules', RULES]);
    assert.match(stdout, /SUCCESS/);
  });

  test('pass their unit tests under promtool test rules', async (t) => {
    const promtool = requireTool(t, 'promtool');
    if (promtool === undefined) return;
    const { stdout } = await run(promtool, ['test', 'rules', RULE_TESTS], {
      cwd: join(ROOT, 'deploy/prometheus'),
    });
    assert.match(stdout, /SUCCESS/);
  });

  test('define every alert the issue asks for, each with a severity and a summary', () => {
    const groups = parse(readFileSync(RULES, 'utf8')).groups as {
      rules: {
        alert?: string;
        labels?: { severity?: string };
        annotations?: { summary?: string };
      }[];
    }[];
    const alerts = groups.flatMap((group) => group.rules).filter((rule) => rule.alert);
    for (const name of [
      'TokengateDenyRatioSpike',
      'TokengateCheckLatencyP99High',
      'TokengateJwksStale',
      'TokengateRevocationMirrorStale',
      'TokengateConfigReloadFailing',
    ]) {
      assert.ok(
        alerts.some((rule) => rule.alert === name),
        `no alert ${name}`,
      );
    }
    for (const rule of alerts) {
      assert.match(rule.labels?.severity ?? '', /^(warning|critical)$/, rule.alert);
      assert.ok(rule.annotations?.summary, `${rule.alert} has no summary`);
    }
  });

  test('have a unit test for every alert', () => {
    const rules = readFileSync(RULES, 'utf8');
    const tests = parse(readFileSync(RULE_TESTS, 'utf8')) as {
      tests: { alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[] }[];
    };
    const fired = new Set(
      tests.tests
        .flatMap((entry) => entry.alert_rule_test ?? [])
        .filter((check) => check.exp_alerts.length > 0)
        .map((check) => check.alertname),
    );
    for (const [, name] of rules.matchAll(/- alert: (\S+)/g)) {
      assert.ok(fired.has(name!), `no test makes ${name} fire`);
    }
  });
});

const [redisBin, noRedis] = suiteTool('redis-server');

// With the Redis revocation store, so the store's own metrics are exported too.
describe('dashboard and rules against a live /metrics', { skip: noRedis }, () => {
  let redis: RunningRedis;
  let observed: ObservedTokengate;
  let exported: Set<string>;
  const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as {
    uid: string;
    title: string;
    panels: Panel[];
    templating: { list: { name: string; type: string }[] };
  };
  const panels = dashboard.panels.filter((panel) => panel.type !== 'row');

  before(async () => {
    redis = await startRedis(redisBin!);
    observed = await startObserved({ revocation: { store: 'redis', redis: { url: redis.url } } });
    await observed.client.check();
    exported = new Set(parseExposition(await scrape(observed.tokengate.httpAddress)).types.keys());
  });

  after(async () => {
    await observed?.stop();
    await redis?.remove();
  });

  test('is a dashboard with a uid, a data source variable and unique panel ids', () => {
    assert.equal(dashboard.uid, 'tokengate-overview');
    assert.ok(dashboard.templating.list.some((v) => v.type === 'datasource'));
    const ids = dashboard.panels.map((panel) => panel.id);
    assert.equal(new Set(ids).size, ids.length);
    for (const panel of dashboard.panels) {
      assert.ok(panel.gridPos.x + panel.gridPos.w <= 24, `${panel.title} overflows the grid`);
    }
  });

  test('has the panels the issue asks for', () => {
    const queries = panels.flatMap((panel) => panel.targets ?? []).map((t) => t.expr);
    const uses = (pattern: RegExp) => queries.some((expr) => pattern.test(expr));
    assert.ok(uses(/sum by \(decision\) \(rate\(tokengate_checks_total/), 'requests by decision');
    assert.ok(uses(/sum by \(reason\).*decision="deny"/), 'deny reasons');
    assert.ok(uses(/histogram_quantile\(0\.99, .*tokengate_check_duration_seconds_bucket/), 'p99');
    assert.ok(uses(/tokengate_token_cache_hits_total.*tokengate_token_cache_misses_total/), 'hits');
    assert.ok(uses(/by \(issuer\) \(tokengate_jwks_last_success_age_seconds/), 'jwks age');
    assert.ok(uses(/tokengate_redis_up/) && uses(/tokengate_revocation_mirror_age_seconds/));
  });

  test('queries only metrics a running tokengate exports', () => {
    assert.ok(exported.has('tokengate_checks_total'));
    for (const panel of panels) {
      assert.ok((panel.targets ?? []).length > 0, `${panel.title} has no query`);
      for (const target of panel.targets!) {
        for (const name of metricNames(target.expr)) {
          assert.ok(exported.has(name), `panel "${panel.title}" queries ${name}, not exported`);
        }
      }
    }
  });

  test('alerts only on metrics a running tokengate exports', () => {
    const groups = parse(readFileSync(RULES, 'utf8')).groups as { rules: { expr: string }[] }[];
    for (const rule of groups.flatMap((group) => group.rules)) {
      for (const name of metricNames(rule.expr)) {
        assert.ok(exported.has(name), `rule ${rule.expr} uses ${name}, not exported`);
      }
    }
  });
});
