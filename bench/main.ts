/**
 * `npm run bench`: measures tokengate against a no-op ext_authz server in the same run, prints
 * one table and writes it to `docs/benchmarks.md`.
 *
 *   --quick      a short smoke run of a few scenarios; prints the table, writes nothing
 *   --profile    also writes a `.cpuprofile` of tokengate under the repeated-token load
 *   --no-envoy   skips the runs through Envoy
 *   --only TEXT  runs only the scenarios whose name contains TEXT (plus the baseline)
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT } from '../test/support/paths.js';
import { findTool } from '../test/support/tools.js';
import { measureEnvoy } from './envoy-bench.js';
import { measureMemory, measureOverload, measureWorkers, profileRepeatedToken } from './extras.js';
import { Fixtures } from './fixtures.js';
import { measureScenario, type ScenarioResult, type Tools } from './measure.js';
import { fmt, ms, pct, renderMarkdown, type RunReport } from './report.js';
import { SCENARIOS, type ScenarioContext } from './scenarios.js';
import { choosePinning } from './servers.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    'no-envoy': { type: 'boolean', default: false },
    'no-install': { type: 'boolean', default: false },
    only: { type: 'string' },
  },
  strict: true,
});

const say = (text: string) => process.stderr.write(`bench: ${text}\n`);

async function main(): Promise<void> {
  if (!values['no-install']) {
    const install = spawnSync('bash', [join(ROOT, 'scripts/install-test-tools.sh'), '--bench'], {
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    if (install.status !== 0) throw new Error('scripts/install-test-tools.sh --bench failed');
  }
  const tools: Tools = {
    ghz: need('ghz'),
    h2load: need('h2load'),
    envoy: findTool('envoy'),
  };

  const quick = values.quick;
  const timing = quick ? { warmupSeconds: 1, seconds: 2 } : { warmupSeconds: 2, seconds: 5 };
  const pinning = choosePinning(cpus().length);
  const dir = mkdtempSync(join(tmpdir(), 'tokengate-bench-'));
  const fixtures = new Fixtures(dir);
  const context: ScenarioContext = { fixtures, issuer: fixtures.issuerConfig(), dir };
  const report: RunReport = {
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    quick,
    pinning,
    timing,
    scenarios: [],
    sections: [],
    targets: [],
  };

  try {
    const chosen = SCENARIOS.filter(
      (scenario) =>
        (!quick || scenario.quick) &&
        (values.only === undefined ||
          scenario.server === 'baseline' ||
          scenario.name.includes(values.only)),
    );
    for (const scenario of chosen) {
      say(`scenario: ${scenario.name}`);
      report.scenarios.push(await measureScenario(scenario, context, tools, pinning, timing));
    }

    if (values.only === undefined) await extras(report, context, tools, quick, timing);
    if (values.profile) {
      say('profile: repeated token');
      const path = await profileRepeatedToken(context, tools, pinning, quick ? 3 : 10);
      report.sections.push({ title: 'CPU profile', lines: [`Written to \`${path}\`.`] });
      say(`profile written to ${path}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  report.targets = targets(report);
  const markdown = renderMarkdown(report);
  process.stdout.write(`${markdown}\n`);
  if (!quick && values.only === undefined) {
    writeFileSync(join(ROOT, 'docs/benchmarks.md'), markdown);
    say('wrote docs/benchmarks.md');
  }
}

async function extras(
  report: RunReport,
  context: ScenarioContext,
  tools: Tools,
  quick: boolean,
  timing: { warmupSeconds: number; seconds: number },
): Promise<void> {
  const { pinning } = report;

  say('overload');
  const overload = await measureOverload(context, tools, pinning, timing);
  report.sections.push({ title: 'Overload: late checks are refused fast', lines: overload.lines });
  (report as Extra).overload = overload;

  if (!quick) {
    say('memory: 100,000 cached tokens');
    const memory = await measureMemory(context, tools, pinning, 100_000);
    report.sections.push({ title: 'Memory with 100,000 cached tokens', lines: memory.lines });
    (report as Extra).memory = memory;

    say('workers: 1 vs 2');
    const workers = await measureWorkers(context, tools, timing);
    report.sections.push({ title: 'One worker vs two', lines: workers.lines });
  }

  if (!values['no-envoy']) {
    if (tools.envoy === undefined) {
      report.sections.push({ title: 'Through Envoy', lines: ['Not run: Envoy is not installed.'] });
      return;
    }
    say('through Envoy');
    const envoy = await measureEnvoy(
      context,
      tools,
      pinning,
      timing,
      quick ? [1_000] : [1_000, 2_000],
    );
    report.sections.push({ title: 'Through Envoy: latency tokengate adds', lines: envoy.lines });
    (report as Extra).envoy = envoy;
  }
}

type Extra = RunReport & {
  overload?: Awaited<ReturnType<typeof measureOverload>>;
  memory?: Awaited<ReturnType<typeof measureMemory>>;
  envoy?: Awaited<ReturnType<typeof measureEnvoy>>;
};

function targets(report: Extra): RunReport['targets'] {
  const find = (name: string) => report.scenarios.find((result) => result.scenario.name === name);
  const baseline = find('baseline (no-op server)');
  const out: RunReport['targets'] = [];
  const throughput = (name: string, min: number, label: string) => {
    const result = find(name);
    if (!result || !baseline || result.skipped) return;
    const useH2 = result.h2load !== undefined && baseline.h2load !== undefined;
    const value = useH2
      ? result.h2load!.load.rps / baseline.h2load!.load.rps
      : result.ghz[1].load.rps / baseline.ghz[1].load.rps;
    const perCpu = useH2
      ? result.h2load!.perCpuSecond / baseline.h2load!.perCpuSecond
      : result.ghz[1].perCpuSecond / baseline.ghz[1].perCpuSecond;
    out.push({
      target: `${label}: at least ${pct(min)} of the baseline's throughput (judged per server CPU-second)`,
      measured: `per server CPU-second ${pct(perCpu)}; raw throughput ${pct(value)} (${useH2 ? 'h2load' : 'ghz, load-generator bound'})`,
      met: perCpu >= min,
    });
  };
  throughput('repeated RS256 token (cache hits)', 0.9, 'repeated token');
  if (find('unique RS256, one token, cache off')) {
    throughput('unique RS256, one token, cache off', 0.55, 'unique RS256 tokens');
  } else throughput('unique RS256 tokens (every one verified)', 0.55, 'unique RS256 tokens');

  const half = find('repeated RS256 token (cache hits)')?.halfRate;
  if (half) {
    out.push({
      target: 'p99 at half the maximum rate (repeated token): at most 1 ms',
      measured: `client p99 ${ms(half.load.p99Ms)} at ${fmt(half.rps)} /s; server p99 ≤ ${ms(half.serverP99Ms)}`,
      met: half.load.p99Ms <= 1,
    });
  }

  const saturated = report.scenarios.filter(
    (result) => result.scenario.server === 'tokengate' && !result.skipped,
  );
  if (saturated.length > 0) {
    const failed = saturated
      .flatMap((result) =>
        [result.ghz[1], result.ghz[2], result.h2load].flatMap((run) =>
          run ? Object.values(run.load.failures) : [],
        ),
      )
      .reduce((sum, value) => sum + value, 0);
    const slowest = Math.max(
      ...saturated.map((result) => Math.max(result.ghz[1].load.maxMs, result.ghz[2].load.maxMs)),
    );
    out.push({
      target:
        'at saturation (ghz, 50 concurrent calls, 200 ms deadline): no request fails, none waits past its deadline',
      measured: `${failed} failed; slowest answer ${ms(slowest)}`,
      met: failed === 0 && slowest < 200,
    });
  }
  if (report.overload) {
    const refused = Object.entries(report.overload.failures);
    out.push({
      target: 'overload: late or excess checks refused fast with a clear status',
      measured: `${refused.map(([name, count]) => `${name} ${fmt(count)}`).join(', ') || 'nothing refused'}; slowest OK call ${ms(report.overload.maxMs)}`,
      met:
        report.overload.maxMs < 200 &&
        refused.every(([name]) => name === 'ResourceExhausted' || name === 'DeadlineExceeded'),
    });
  }
  if (report.envoy) {
    for (const transport of ['TCP', 'a Unix socket']) {
      const alone = report.envoy.rows.find(
        (row) => row.rps === 1_000 && row.setup.startsWith('Envoy alone'),
      );
      const withAuthz = report.envoy.rows.find(
        (row) => row.rps === 1_000 && row.setup.endsWith(transport),
      );
      if (!alone || !withAuthz) continue;
      const p50 = withAuthz.load.p50Ms - alone.load.p50Ms;
      const p99 = withAuthz.load.p99Ms - alone.load.p99Ms;
      out.push({
        target: `through Envoy at 1,000 /s over ${transport}: adds at most 0.3 ms at p50 and 1 ms at p99`,
        measured: `adds ${ms(p50)} at p50, ${ms(p99)} at p99 (failures: ${Object.keys(withAuthz.load.failures).length === 0 ? 0 : JSON.stringify(withAuthz.load.failures)})`,
        met: p50 <= 0.3 && p99 <= 1 && Object.keys(withAuthz.load.failures).length === 0,
      });
    }
  }
  if (report.memory) {
    out.push({
      target: 'resident memory at most 150 MB with 100,000 cached tokens',
      measured: `${fmt(report.memory.rssMb, 1)} MB with ${fmt(report.memory.entries)} entries`,
      met: report.memory.rssMb <= 150 && report.memory.entries >= 100_000,
    });
  }
  return out;
}

function need(name: string): string {
  const path = findTool(name);
  if (path === undefined)
    throw new Error(`${name} is not installed; run scripts/install-test-tools.sh --bench`);
  return path;
}

main().catch((error: Error) => {
  process.stderr.write(`bench: ${error.stack ?? error.message}\n`);
  process.exitCode = 1;
});
