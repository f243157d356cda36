import { join } from 'node:path';
import { writeGhzData, writeGrpcFrame } from './fixtures.js';
import { runGhz, runH2load, type LoadResult } from './load.js';
import type { Scenario, ScenarioContext } from './scenarios.js';
import {
  metricsTextIfReachable,
  startBaseline,
  startTokengate,
  type Pinning,
  type ServerProcess,
} from './servers.js';

/** A load run and the server CPU it cost. */
export interface Measured {
  load: LoadResult;
  /** Server CPU used during the run, in cores (1.0 = one core fully busy). */
  cpuCores: number;
  /** Completed checks per second of server CPU. */
  perCpuSecond: number;
  /** Server-side p99 from `tokengate_check_duration_seconds`, as a bucket bound (ms). */
  serverP99Ms?: number;
}

export interface ScenarioResult {
  scenario: Scenario;
  skipped?: string;
  ghz: Record<1 | 2, Measured>;
  h2load?: Measured;
  halfRate?: Measured & { rps: number };
  rssBytes?: number;
}

export interface Tools {
  ghz: string;
  h2load: string;
  envoy?: string | undefined;
}

export interface Timing {
  warmupSeconds: number;
  seconds: number;
}

const CHECK_PATH = '/envoy.service.auth.v3.Authorization/Check';

/** Base tokengate config of every scenario: loopback ports and the bench issuer. */
export function baseConfig(context: ScenarioContext): Record<string, unknown> {
  return {
    grpc: { address: '127.0.0.1:0' },
    http: { address: '127.0.0.1:0' },
    issuers: [context.issuer],
    headers: { fromClaims: { 'x-auth-subject': 'sub', 'x-auth-scopes': 'scope' } },
  };
}

export async function startScenarioServer(
  scenario: Scenario,
  context: ScenarioContext,
  pinning: Pinning,
  extra: { nodeArgs?: string[]; config?: Record<string, unknown>; cpus?: string | undefined } = {},
): Promise<ServerProcess> {
  if (scenario.server === 'baseline') return startBaseline(pinning);
  return startTokengate({
    config: { ...baseConfig(context), ...scenario.config?.(context), ...extra.config },
    dir: context.dir,
    cpus: 'cpus' in extra ? extra.cpus : pinning.enabled ? pinning.server : undefined,
    nodeArgs: extra.nodeArgs ?? [],
  });
}

/** Runs `load` while reading the server's CPU time and, for tokengate, its latency histogram. */
export async function measured(
  server: ServerProcess,
  load: () => Promise<LoadResult>,
  wallSeconds: number,
): Promise<Measured> {
  const before = server.treeCpuSeconds();
  const histogramBefore = await scrapeHistogram(server);
  const result = await load();
  const cpu = server.treeCpuSeconds() - before;
  const histogramAfter = await scrapeHistogram(server);
  // The load tools start up before their timed period; the server is idle meanwhile.
  const cpuCores = cpu / wallSeconds;
  return {
    load: result,
    cpuCores,
    perCpuSecond: cpuCores > 0 ? result.rps / cpuCores : NaN,
    ...(histogramBefore && histogramAfter
      ? { serverP99Ms: histogramQuantile(histogramBefore, histogramAfter, 0.99) }
      : {}),
  };
}

/** Measures one scenario: ghz with 1 and 2 connections, then h2load and a half-rate run. */
export async function measureScenario(
  scenario: Scenario,
  context: ScenarioContext,
  tools: Tools,
  pinning: Pinning,
  timing: Timing,
): Promise<ScenarioResult> {
  const reason = scenario.unavailable?.(context);
  const empty = {} as ScenarioResult['ghz'];
  if (reason !== undefined) return { scenario, skipped: reason, ghz: empty };

  const tokens = scenario.tokens(context);
  const slug = scenario.name.replace(/[^a-z0-9]+/gi, '-').toLowerCase();
  const dataFile = join(context.dir, `${slug}.bin`);
  writeGhzData(dataFile, tokens);
  const server = await startScenarioServer(scenario, context, pinning);
  const loadCpus = pinning.enabled ? pinning.load : undefined;
  const cpuCount = pinning.enabled ? pinning.loadCount : undefined;
  const ghz = (connections: number, seconds: number, rps?: number) =>
    runGhz({
      ghz: tools.ghz,
      target: server.address,
      dataFile,
      connections,
      concurrency: 50,
      seconds,
      ...(rps ? { rps } : {}),
      cpus: loadCpus,
      ...(cpuCount ? { cpuCount } : {}),
    });

  try {
    await ghz(1, timing.warmupSeconds);
    const result: ScenarioResult = {
      scenario,
      ghz: {
        1: await measured(server, () => ghz(1, timing.seconds), timing.seconds),
        2: await measured(server, () => ghz(2, timing.seconds), timing.seconds),
      },
    };

    if (scenario.h2load && tokens.length === 1) {
      const frame = join(context.dir, `${slug}.frame`);
      writeGrpcFrame(frame, tokens[0]);
      const h2 = (rps?: number) =>
        runH2load({
          h2load: tools.h2load,
          url: `http://${server.address}${CHECK_PATH}`,
          dataFile: frame,
          grpc: true,
          connections: 1,
          streams: rps ? 50 : 100,
          seconds: timing.seconds,
          warmupSeconds: timing.warmupSeconds,
          ...(rps ? { rps } : {}),
          cpus: loadCpus,
          logFile: join(context.dir, `${slug}.h2load.log`),
        });
      result.h2load = await measured(server, () => h2(), timing.seconds + timing.warmupSeconds);
      if (scenario.halfRate) {
        const rps = Math.round(result.h2load.load.rps / 2);
        const half = await measured(server, () => h2(rps), timing.seconds + timing.warmupSeconds);
        result.halfRate = { ...half, rps };
      }
    }
    result.rssBytes = server.rssBytes();
    return result;
  } finally {
    await server.stop();
  }
}

type Histogram = Map<number, number>;

/** `tokengate_check_duration_seconds` buckets summed over labels, or none for the baseline. */
export async function scrapeHistogram(server: ServerProcess): Promise<Histogram | undefined> {
  const text = await metricsTextIfReachable(server);
  if (text === undefined) return undefined;
  const buckets: Histogram = new Map();
  for (const line of text.split('\n')) {
    const match = /^tokengate_check_duration_seconds_bucket\{.*le="([^"]+)".*\} (\d+)/.exec(line);
    if (!match) continue;
    const le = match[1] === '+Inf' ? Infinity : Number(match[1]);
    buckets.set(le, (buckets.get(le) ?? 0) + Number(match[2]));
  }
  return buckets.size > 0 ? buckets : undefined;
}

/** The upper bound (ms) of the bucket holding quantile `q` of the checks between two scrapes. */
function histogramQuantile(before: Histogram, after: Histogram, q: number): number {
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const count = (le: number) => (after.get(le) ?? 0) - (before.get(le) ?? 0);
  const total = count(Infinity);
  if (total <= 0) return NaN;
  for (const le of bounds) if (count(le) >= q * total) return le * 1000;
  return Infinity;
}
