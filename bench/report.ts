import { cpus, loadavg } from 'node:os';
import type { ScenarioResult, Measured } from './measure.js';
import type { Pinning } from './servers.js';

/** Everything one run produced, for the table. */
export interface RunReport {
  date: string;
  quick: boolean;
  pinning: Pinning;
  timing: { warmupSeconds: number; seconds: number };
  scenarios: ScenarioResult[];
  sections: { title: string; lines: string[] }[];
  targets: { target: string; measured: string; met: boolean | undefined; why?: string }[];
}

export function machineLines(pinning: Pinning): string[] {
  const cores = cpus();
  return [
    `- CPU: ${cores[0]?.model ?? 'unknown'}, ${cores.length} cores`,
    `- Node.js ${process.version}, ${process.platform}/${process.arch}`,
    `- load average at start: ${loadavg()
      .map((value) => value.toFixed(2))
      .join(', ')}`,
    pinning.enabled
      ? `- pinning: servers on core ${pinning.server} (\`taskset -c ${pinning.server}\`), load generators on core(s) ${pinning.load}`
      : '- pinning: none (taskset missing or a single core): server and load generator share cores',
  ];
}

const fmt = (value: number, digits = 0) =>
  Number.isFinite(value)
    ? value.toLocaleString('en-US', {
        maximumFractionDigits: digits,
        minimumFractionDigits: digits,
      })
    : 'n/a';
const pct = (value: number) => (Number.isFinite(value) ? `${Math.round(value * 100)} %` : 'n/a');
const ms = (value: number | undefined) =>
  value === undefined || !Number.isFinite(value) ? 'n/a' : `${fmt(value, 2)} ms`;
const failuresOf = (measured: Measured | undefined) => {
  const entries = Object.entries(measured?.load.failures ?? {});
  return entries.length === 0 ? '0' : entries.map(([name, count]) => `${name} ${count}`).join(', ');
};

/** The scenario table: absolute figures with their ratio to the baseline of the same run. */
export function scenarioTable(results: ScenarioResult[]): string[] {
  const baseline = results.find((result) => result.scenario.server === 'baseline');
  const ratio = (value: number | undefined, base: number | undefined) =>
    value === undefined || base === undefined ? 'n/a' : pct(value / base);
  const rows = [
    '| scenario | ghz 1 conn rps (vs baseline) | ghz 2 conn rps (vs baseline) | h2load rps (vs baseline) | checks per server CPU-second (vs baseline) | server CPU at saturation | ghz 1 conn p50 / p99 | failures |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const result of results) {
    if (result.skipped !== undefined) {
      rows.push(`| ${result.scenario.name} | not run: ${result.skipped} | | | | | | |`);
      continue;
    }
    const one = result.ghz[1];
    const two = result.ghz[2];
    const best = result.h2load ?? one;
    const baseBest = baseline?.h2load && result.h2load ? baseline.h2load : baseline?.ghz[1];
    rows.push(
      `| ${result.scenario.name} | ${fmt(one.load.rps)} (${ratio(one.load.rps, baseline?.ghz[1].load.rps)}) | ${fmt(two.load.rps)} (${ratio(two.load.rps, baseline?.ghz[2].load.rps)}) | ${result.h2load ? `${fmt(result.h2load.load.rps)} (${ratio(result.h2load.load.rps, baseline?.h2load?.load.rps)})` : '—'} | ${fmt(best.perCpuSecond)} (${ratio(best.perCpuSecond, baseBest?.perCpuSecond)}) | ${fmt((result.h2load ?? one).cpuCores, 2)} cores | ${ms(one.load.p50Ms)} / ${ms(one.load.p99Ms)} | ${[failuresOf(one), failuresOf(two), ...(result.h2load ? [failuresOf(result.h2load)] : [])].join(' / ')} |`,
    );
  }
  return rows;
}

export function halfRateTable(results: ScenarioResult[]): string[] {
  const rows = [
    '| scenario | rate (half of its h2load maximum) | client p50 | client p99 | server p99 (histogram bucket) | failures |',
    '|---|---|---|---|---|---|',
  ];
  for (const result of results) {
    const half = result.halfRate;
    if (half === undefined) continue;
    rows.push(
      `| ${result.scenario.name} | ${fmt(half.rps)} /s | ${ms(half.load.p50Ms)} | ${ms(half.load.p99Ms)} | ${half.serverP99Ms === undefined ? 'n/a' : `≤ ${ms(half.serverP99Ms)}`} | ${failuresOf(half)} |`,
    );
  }
  return rows;
}

export function renderMarkdown(report: RunReport): string {
  const lines = [
    '# tokengate benchmarks',
    '',
    `Written by \`npm run bench\`${report.quick ? ' --quick (a smoke run: short and partial)' : ''} on ${report.date}. Every figure comes from that one run; read the ratios to the no-op baseline measured in the same run, since absolute figures drift between runs and machines.`,
    '',
    '## Machine',
    '',
    ...machineLines(report.pinning),
    `- each load run: ${report.timing.warmupSeconds} s warm-up, then ${report.timing.seconds} s measured; ghz with 50 concurrent calls and a 200 ms deadline per call (Envoy's default ext_authz timeout)`,
    '',
    '## Check throughput',
    '',
    ...scenarioTable(report.scenarios),
    '',
    'How to read it:',
    '',
    '- **ghz** (the required gRPC load generator) costs more CPU per call than the servers do, so on this machine the single load core saturates before the server core: its columns compare servers at the same offered load, and the *server CPU* column says how busy the server was.',
    '- **h2load** posts one prepared gRPC frame over HTTP/2 and is light enough that the server core is the bottleneck; it is used for scenarios that repeat a single request. It sees only HTTP statuses; the ghz runs of the same scenario check the gRPC statuses.',
    '- **checks per server CPU-second** divides throughput by the server CPU used, so it compares the cost of a check even where the load generator was the limit.',
    '- a deny is a gRPC OK carrying a `denied_response`, so it is not a failure.',
    `- the machine is shared with other work (load average ${loadavg()[0]!.toFixed(2)} at the end of the run, for ${cpus().length} cores): a server may get less than its pinned core while others run, which moves raw rates by tens of percent between rows with the same config. The throughput targets are therefore judged on checks per server CPU-second, which that distorts least.`,
    '',
    ...report.scenarios
      .filter((result) => result.skipped === undefined)
      .map((result) => `- *${result.scenario.name}*: ${result.scenario.description}`),
    '',
    '## Latency at half the maximum rate',
    '',
    ...halfRateTable(report.scenarios),
    '',
    ...report.sections.flatMap((section) => [`## ${section.title}`, '', ...section.lines, '']),
    '## Targets',
    '',
    '| target | measured | met |',
    '|---|---|---|',
    ...report.targets.map(
      (target) =>
        `| ${target.target} | ${target.measured} | ${target.met === undefined ? 'not measured' : target.met ? 'yes' : '**no**'} |`,
    ),
    '',
    ...whyNot(report.targets),
  ];
  return lines.join('\n');
}

/** Why each target marked no is not met, from the figures of the same run. */
function whyNot(targets: RunReport['targets']): string[] {
  const unmet = targets.filter((target) => target.met === false && target.why !== undefined);
  if (unmet.length === 0) return [];
  return [
    '### Why the targets marked no are not met',
    '',
    ...unmet.map((target) => `- **${target.target}**: ${target.why}`),
    '',
    'docs/performance.md explains these costs and what an operator can do about them.',
    '',
  ];
}

export { fmt, pct, ms };
