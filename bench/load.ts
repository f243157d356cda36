import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { envoyProtoDirs } from '../src/grpc/protos.js';
import { pinned } from './servers.js';

/** What one load-generator run measured, client side. */
export interface LoadResult {
  tool: 'ghz' | 'h2load';
  /** Completed requests counted in the result. */
  requests: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Requests that did not end in gRPC OK (ghz) or HTTP 2xx (h2load), by status. */
  failures: Record<string, number>;
}

export interface GhzRun {
  ghz: string;
  /** `host:port` of the server. */
  target: string;
  dataFile: string;
  connections: number;
  concurrency: number;
  /** Run length; ignored when `total` is set. */
  seconds: number;
  /** Send exactly this many calls instead of running for `seconds`. */
  total?: number;
  /** Fixed rate in requests per second; saturation when absent. */
  rps?: number;
  /** Per-call deadline sent to the server, as Envoy sends one; 200 ms like Envoy's default. */
  timeoutMs?: number;
  cpus?: string | undefined;
  cpuCount?: number;
}

/** Runs ghz against the ext_authz Check method with binary request data, sent round-robin. */
export async function runGhz(run: GhzRun): Promise<LoadResult> {
  const args = [
    '--insecure',
    '--proto',
    'envoy/service/auth/v3/external_auth.proto',
    '--import-paths',
    envoyProtoDirs().join(','),
    '--call',
    'envoy.service.auth.v3.Authorization.Check',
    '--binary-file',
    run.dataFile,
    '--connections',
    String(run.connections),
    '--concurrency',
    String(Math.max(run.concurrency, run.connections)),
    ...(run.total ? ['--total', String(run.total)] : ['--duration', `${run.seconds}s`]),
    '--timeout',
    `${run.timeoutMs ?? 200}ms`,
    // Calls still in flight when the time is up are cut off by ghz itself; they are not results.
    '--duration-stop',
    'ignore',
    '--format',
    'json',
    ...(run.cpuCount ? ['--cpus', String(run.cpuCount)] : []),
    ...(run.rps ? ['--rps', String(run.rps)] : []),
    run.target,
  ];
  const { stdout, stderr, code } = await exec(pinned(run.cpus, run.ghz, args));
  if (code !== 0 && stdout.trim() === '') throw new Error(`ghz failed (${code}): ${stderr}`);

  const report = JSON.parse(stdout) as {
    count: number;
    rps: number;
    slowest: number;
    latencyDistribution?: { percentage: number; latency: number }[] | null;
    statusCodeDistribution?: Record<string, number>;
  };
  const percentile = (p: number) =>
    (report.latencyDistribution?.find((entry) => entry.percentage === p)?.latency ?? NaN) / 1e6;
  const failures = { ...report.statusCodeDistribution };
  delete failures.OK;
  const ok = report.statusCodeDistribution?.OK ?? 0;
  const seconds = run.total ? report.count / report.rps : run.seconds;
  return {
    tool: 'ghz',
    requests: ok,
    // ghz's own rps counts failed calls too; only answered checks count here.
    rps: seconds > 0 ? ok / seconds : NaN,
    p50Ms: percentile(50),
    p99Ms: percentile(99),
    maxMs: report.latencyDistribution ? report.slowest / 1e6 : NaN,
    failures,
  };
}

export interface H2loadRun {
  h2load: string;
  /** Full URL; for gRPC the path is `/envoy.service.auth.v3.Authorization/Check`. */
  url: string;
  /** Body file posted with every request (a gRPC frame), or none for GET. */
  dataFile?: string;
  grpc?: boolean;
  headers?: Record<string, string>;
  connections: number;
  streams: number;
  seconds: number;
  warmupSeconds: number;
  /** Fixed rate in requests per second across all connections; saturation when absent. */
  rps?: number;
  cpus?: string | undefined;
  /** Per-request log used for percentiles. */
  logFile: string;
}

/**
 * Runs h2load, a much lighter client than ghz, so that a single-core server is what saturates.
 * It cannot vary the body per request and only sees HTTP statuses, so gRPC runs use it for
 * throughput of one repeated request; their gRPC statuses are checked by a ghz run.
 */
export async function runH2load(run: H2loadRun): Promise<LoadResult> {
  const headers = {
    ...(run.grpc ? { 'content-type': 'application/grpc', te: 'trailers' } : {}),
    ...run.headers,
  };
  const args = [
    '--duration',
    String(run.seconds),
    '--warm-up-time',
    String(run.warmupSeconds),
    '--clients',
    String(run.connections),
    '--max-concurrent-streams',
    String(run.streams),
    '--log-file',
    run.logFile,
    ...Object.entries(headers).flatMap(([name, value]) => ['--header', `${name}: ${value}`]),
    ...(run.dataFile ? ['--data', run.dataFile] : []),
    ...(run.rps ? ['--rps', String(run.rps / run.connections)] : []),
    run.url,
  ];
  const { stdout, stderr, code } = await exec(pinned(run.cpus, run.h2load, args));
  if (code !== 0) throw new Error(`h2load failed (${code}): ${stderr}\n${stdout}`);

  const rps = Number(/finished in [\d.]+s, ([\d.]+) req\/s/.exec(stdout)?.[1] ?? NaN);
  const counts =
    /requests: (\d+) total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/.exec(
      stdout,
    );
  const statuses = /status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/.exec(stdout);
  const latencies = readLatencies(run.logFile);
  rmSync(run.logFile, { force: true });
  const failures: Record<string, number> = {};
  const add = (name: string, value: string | undefined) => {
    if (Number(value) > 0) failures[name] = Number(value);
  };
  add('failed', counts?.[4]);
  add('errored', counts?.[5]);
  add('timeout', counts?.[6]);
  add('http-4xx', statuses?.[3]);
  add('http-5xx', statuses?.[4]);
  return {
    tool: 'h2load',
    requests: Number(counts?.[3] ?? 0),
    rps,
    p50Ms: quantile(latencies, 0.5),
    p99Ms: quantile(latencies, 0.99),
    maxMs: latencies.length > 0 ? latencies[latencies.length - 1]! : NaN,
    failures,
  };
}

/**
 * Saturates a server with one prepared Check frame (h2load, 1 connection, 100 concurrent
 * streams): the load of the profile and of the paired comparisons.
 */
export function saturateWithFrame(run: {
  h2load: string;
  address: string;
  frame: string;
  seconds: number;
  warmupSeconds: number;
  cpus: string | undefined;
  logFile: string;
}): Promise<LoadResult> {
  return runH2load({
    h2load: run.h2load,
    url: `http://${run.address}/envoy.service.auth.v3.Authorization/Check`,
    dataFile: run.frame,
    grpc: true,
    connections: 1,
    streams: 100,
    seconds: run.seconds,
    warmupSeconds: run.warmupSeconds,
    cpus: run.cpus,
    logFile: run.logFile,
  });
}

/** Sorted latencies in milliseconds from h2load's per-request log (µs in the third column). */
function readLatencies(path: string): number[] {
  let text = '';
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  const values: number[] = [];
  for (const line of text.split('\n')) {
    const micros = Number(line.split('\t')[2]);
    if (line !== '' && Number.isFinite(micros)) values.push(micros / 1000);
  }
  return values.sort((a, b) => a - b);
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

export function exec([command, args]: [string, string[]]): Promise<{
  stdout: string;
  stderr: string;
  code: number | null;
}> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.once('error', reject);
    child.once('close', (code) =>
      resolve({
        stdout: Buffer.concat(out).toString(),
        stderr: Buffer.concat(err).toString(),
        code,
      }),
    );
  });
}
