/**
 * Paired A/B comparisons: two tokengate servers with the same token and different configs, both
 * running for the whole comparison and loaded one at a time in interleaved rounds, so that a
 * "within 5 %" question is answered from figures taken seconds apart rather than from two rows
 * of the table measured minutes apart on a shared machine.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pino } from 'pino';
import { buildEntry, type EntryKind, type RevocationEntry } from '../src/revocation/entry.js';
import { RedisStore } from '../src/revocation/redis-store.js';
import {
  DEFAULT_SOFT_LIMIT_MB,
  MAX_GROWING_PERCENT,
  MIN_GROWING_PERCENT,
} from '../src/service/memory-limit.js';
import { startRedis, type RunningRedis } from '../test/support/redis.js';
import { CheckClient } from '../test/support/tokengate.js';
import { findTool } from '../test/support/tools.js';
import { ISSUER, writeGrpcFrame } from './fixtures.js';
import { saturateWithFrame } from './load.js';
import { baseConfig, type Measured, type Tools } from './measure.js';
import { fmt, pct } from './report.js';
import type { ScenarioContext } from './scenarios.js';
import {
  gauge,
  metricsTextIfReachable,
  startTokengate,
  type Pinning,
  type ServerProcess,
} from './servers.js';

/** What a pair's setup gives the rounds: each side's config, and what to do around them. */
export interface PreparedPair {
  a: Record<string, unknown>;
  b: Record<string, unknown>;
  /** Waits until side B's server holds what it needs (e.g. every revocation entry). */
  ready?: (b: ServerProcess) => Promise<void>;
  /** Figures read from the servers after the rounds, as extra lines and target rows. */
  after?: (a: ServerProcess, b: ServerProcess) => Promise<PairExtra>;
  close: () => Promise<void>;
}

export interface PairExtra {
  lines: string[];
  targets: PairTarget[];
}

export interface PairTarget {
  target: string;
  measured: string;
  met: boolean | undefined;
  /** Why the target is not met, when it is not. */
  why?: string;
}

/**
 * One comparison. Side A is the reference, side B the variant whose cost is asked about, so the
 * ratio B/A is the share of A's throughput that B keeps.
 */
export interface Pair {
  name: string;
  description: string;
  aLabel: string;
  bLabel: string;
  /** B/A of the median checks per server CPU-second must be at least this. */
  minRatio?: number;
  /** The target's wording in the targets table; none for a pair without a target. */
  target?: string;
  /** Runs only when named by `--only`, not by default. */
  onRequest?: boolean;
  /** What the table says when the target is not met. */
  whyNot?: (result: PairResult) => string;
  prepare: (context: ScenarioContext, say: (text: string) => void) => Promise<PreparedPair>;
}

export interface PairTiming {
  /** One warm-up run of each side before the rounds. */
  warmupSeconds: number;
  /** Length of one round of one side. */
  roundSeconds: number;
  /** Rounds per side in each session; even, so each side goes first as often as the other. */
  rounds: number;
  /** Sessions, each with a fresh pair of server processes. */
  sessions: number;
}

export const PAIR_TIMING: Record<'full' | 'quick', PairTiming> = {
  full: { warmupSeconds: 2, roundSeconds: 3, rounds: 6, sessions: 4 },
  quick: { warmupSeconds: 1, roundSeconds: 2, rounds: 4, sessions: 1 },
};

export interface Side {
  label: string;
  rounds: Measured[];
  medianPerCpu: number;
  medianRps: number;
  rssBytes: number;
  /** Resident set size once ready, before any load. */
  idleRssBytes: number;
  /** Resident set size after each of its rounds. */
  rssAfterRounds: number[];
  /** Checks answered during the rounds, by decision, from /metrics (absent with metrics off). */
  decisions?: Record<string, number>;
  /** What one direct check before the rounds answered (gRPC status code of the decision). */
  probe: string;
}

export interface PairResult {
  pair: Pair;
  skipped?: string;
  a?: Side;
  b?: Side;
  /** B/A of the median checks per server CPU-second, and of the median raw rps. */
  ratio?: number;
  rpsRatio?: number;
  /** Min and max of B/A over adjacent rounds (checks per server CPU-second). */
  spread?: [number, number];
  /** B/A of the medians of each session. */
  sessionRatios?: number[];
  extra?: PairExtra;
  timing: PairTiming;
}

const REVOCATION_ENTRIES = 100_000;

/** Resident memory of each server once ready, before any load. */
const READY_RSS = new WeakMap<ServerProcess, number>();
const idleMb = (server: ServerProcess) => (READY_RSS.get(server) ?? NaN) / 2 ** 20;
const RSS_LIMIT_MB = 200;

/** A pair that differs in config alone: nothing to set up before the rounds or to close after. */
function configsOnly(a: Record<string, unknown>, b: Record<string, unknown>): Pair['prepare'] {
  return async () => ({ a, b, close: async () => undefined });
}

export const PAIRS: Pair[] = [
  {
    name: 'observability',
    description:
      'repeated RS256 token; A has metrics and the audit log off (`metrics.enabled: false`, `audit.enabled: false`), B has both on (the default)',
    aLabel: 'metrics + audit off',
    bLabel: 'metrics + audit on',
    minRatio: 0.95,
    target: 'metrics and the audit log together cost at most 5 % of Check throughput',
    whyNot: (result) =>
      `a cached check cost ${fmt(1e6 / result.a!.medianPerCpu)} µs of server CPU with them off and ${fmt(1e6 / result.b!.medianPerCpu)} µs with them on. The audit line is built and written for every check (one JSON line of about 600 bytes: the request's and the caller's values escaped per line, the policy's once per rule, 64 lines to a write); the metrics are plain increments handed to prom-client when it collects. In a CPU profile of a saturated server the audit line is 4-5 % of the busy time and the metrics under 1 %, so the true cost sits at the target, and the rounds' spread (${pct(result.spread![0])} – ${pct(result.spread![1])}) is wider than the difference asked about. \`audit.allowSampleRate\` logs a share of allows only (denies and shadow decisions always), which is the lever where this cost matters.`,
    prepare: configsOnly(
      { metrics: { enabled: false }, audit: { enabled: false } },
      { metrics: { enabled: true }, audit: { enabled: true } },
    ),
  },
  {
    name: 'revocation',
    description: `repeated RS256 token; both sides use the Redis store of one private redis-server (separate key prefixes): A's set is empty, B's holds ${fmt(REVOCATION_ENTRIES)} active entries (90 % jti, 6 % subject, 4 % client) of the bench issuer, none matching the token`,
    aLabel: 'no entries',
    bLabel: `${fmt(REVOCATION_ENTRIES)} entries`,
    minRatio: 0.95,
    target: `Check throughput with ${fmt(REVOCATION_ENTRIES)} revocation entries within 5 % of the figure with none`,
    whyNot: (result) =>
      `a check with the mirror full does the same few map lookups (by \`jti\`, signing-input digest, subject, client) as with it empty; the rounds' own spread (${pct(result.spread![0])} – ${pct(result.spread![1])}) is wider than the 5 % asked, so on this machine a median this close to 95 % is within noise (\`npm run bench -- --pairs --only control\` measures the same config against itself).`,
    prepare: prepareRevocation,
  },
  {
    name: 'memory limit',
    description: `repeated RS256 token; A has the soft memory limit off (\`memory.softLimit: off\`: V8's own old-generation growth throughout), B has the default (\`auto\`: ${DEFAULT_SOFT_LIMIT_MB} MB resident on this machine, which sets no container limit; past it, the old generation may grow past its live size only as far as fits under the limit, ${MIN_GROWING_PERCENT} % to ${MAX_GROWING_PERCENT} %, worked out again every second)`,
    aLabel: 'soft limit off',
    bLabel: 'soft limit auto',
    minRatio: 0.95,
    target: 'the soft memory limit costs at most 5 % of Check throughput',
    whyNot: (result) =>
      `over the limit V8 runs a full collection each time the old generation fills what is left under the limit, more often than its own heuristic under saturating load (a cached check cost ${fmt(1e6 / result.a!.medianPerCpu)} µs of server CPU with the limit off and ${fmt(1e6 / result.b!.medianPerCpu)} µs with it). A higher \`memory.softLimit\` trades memory back for throughput.`,
    prepare: configsOnly({ memory: { softLimit: 'off' } }, {}),
  },
  {
    name: 'control',
    description:
      'the same config (defaults) on both sides: how far B/A strays from 100 % by noise alone; runs only with `--only control`',
    aLabel: 'defaults',
    bLabel: 'defaults again',
    onRequest: true,
    prepare: configsOnly({}, {}),
  },
];

/** Starts a private Redis, fills B's prefix with the entries, and points each side at its prefix. */
async function prepareRevocation(
  context: ScenarioContext,
  say: (text: string) => void,
): Promise<PreparedPair> {
  const bin = findTool('redis-server');
  if (bin === undefined) throw new Unavailable('redis-server is not installed');
  const redis = await startRedis(bin);
  try {
    pinRedis(redis);
    const started = Date.now();
    await fillRevocations(redis.url, 'bench-full:', REVOCATION_ENTRIES);
    say(
      `revocation: ${fmt(REVOCATION_ENTRIES)} entries written in ${fmt((Date.now() - started) / 1000, 1)} s`,
    );
  } catch (error) {
    await redis.remove();
    throw error;
  }
  const side = (keyPrefix: string) => ({
    revocation: { store: 'redis', redis: { url: redis.url, keyPrefix } },
  });
  return {
    a: side('bench-empty:'),
    b: side('bench-full:'),
    ready: (server) => waitForEntries(server, REVOCATION_ENTRIES),
    after: async (empty, server) => {
      const rssMb = server.rssBytes() / 2 ** 20;
      const emptyMb = empty.rssBytes() / 2 ** 20;
      const emptyIdleMb = idleMb(empty);
      const fullIdleMb = idleMb(server);
      const entries = await gauge(server, 'tokengate_revocation_entries');
      return {
        lines: [
          `- ${fmt(REVOCATION_ENTRIES)}-entries server after its rounds: resident memory ${fmt(rssMb, 1)} MB (VmRSS), \`tokengate_revocation_entries\` ${fmt(entries)}; the no-entries server after the same rounds: ${fmt(emptyMb, 1)} MB`,
        ],
        targets: [
          {
            target: `resident memory under ${RSS_LIMIT_MB} MB with ${fmt(REVOCATION_ENTRIES)} revocation entries`,
            measured: `${fmt(rssMb, 1)} MB after its load rounds, with ${fmt(entries)} entries in the mirror (from /metrics); no-entries server after the same rounds ${fmt(emptyMb, 1)} MB`,
            met: rssMb < RSS_LIMIT_MB && entries >= REVOCATION_ENTRIES,
            why: `the entries took the ready server from ${fmt(emptyIdleMb, 1)} to ${fmt(fullIdleMb, 1)} MB before any load; the saturating rounds then grew both servers (the no-entries one to ${fmt(emptyMb, 1)} MB). Under load V8's old generation fills with promoted garbage between full collections; past the soft memory limit (\`memory.softLimit\`, ${DEFAULT_SOFT_LIMIT_MB} MB here) tokengate bounds that growth to what fits under the limit (the *memory limit* pair measures what that costs), and what remains above the limit is the live set, the young generation (up to 32 MB) and buffers outside the heap.`,
          },
        ],
      };
    },
    close: () => redis.remove(),
  };
}

/** Keeps the Redis threads off the server core (it only answers heartbeats during the rounds). */
function pinRedis(redis: RunningRedis): void {
  const pid = redis.child.process.pid;
  const cores = spawnSync('nproc').stdout?.toString().trim();
  if (pid === undefined || Number(cores) < 2) return;
  spawnSync('taskset', ['-a', '-pc', `0-${Number(cores) - 2}`, String(pid)]);
}

/**
 * Writes `count` entries through the Redis store's own write path (its PUT script, in concurrent
 * batches), so the data is exactly what tokengate's admin API would have written.
 */
export async function fillRevocations(
  url: string,
  keyPrefix: string,
  count: number,
): Promise<void> {
  const store = new RedisStore({
    url,
    keyPrefix,
    commandTimeout: 10_000,
    heartbeatInterval: 3_600_000,
    resyncInterval: 3_600_000,
    maxEntries: count,
    log: pino({ level: 'silent' }),
  });
  await store.start(5_000);
  try {
    if (!store.up) throw new Error('the bench Redis is not reachable');
    const now = Date.now();
    // The defaults of the bench issuer: 30 s clock skew, 24 h assumed longest token lifetime.
    const lifetime = { clockSkew: 30_000, maxLifetime: 86_400_000 };
    const batch = 2_000;
    for (let start = 0; start < count; start += batch) {
      const entries: RevocationEntry[] = [];
      for (let index = start; index < Math.min(count, start + batch); index += 1) {
        entries.push(buildEntry(entryRequest(index, now), lifetime, now));
      }
      await Promise.all(entries.map((entry) => store.put(entry)));
    }
  } finally {
    await store.stop();
  }
}

/** Entry `index` of the mix: 90 % jti, 6 % subject, 4 % client; no value a bench token carries. */
function entryRequest(index: number, now: number) {
  const slot = index % 50;
  const kind: EntryKind = slot < 45 ? 'jti' : slot < 48 ? 'subject' : 'client';
  const value =
    kind === 'jti'
      ? `revoked-${index.toString(36)}-${(index * 2_654_435_761).toString(36)}`
      : kind === 'subject'
        ? `former-user-${index}`
        : `retired-client-${index}`;
  return {
    kind,
    issuer: ISSUER,
    value,
    ...(kind === 'jti' ? { tokenExpiresAt: now + 3_600_000 } : { before: now }),
    revokedBy: 'bench',
    reason: 'bench bulk load',
  };
}

async function waitForEntries(server: ServerProcess, count: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  let seen = NaN;
  while (Date.now() < deadline) {
    seen = await gauge(server, 'tokengate_revocation_entries');
    if (seen >= count) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`tokengate's revocation mirror holds ${seen} entries, not ${count}, after 60 s`);
}

/** `tokengate_checks_total` summed by decision, or undefined with metrics off. */
async function decisions(server: ServerProcess): Promise<Record<string, number> | undefined> {
  const text = await metricsTextIfReachable(server);
  if (text === undefined) return undefined;
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const match = /^tokengate_checks_total\{.*decision="([a-z]+)".*\} ([0-9.e+]+)$/.exec(line);
    if (match) out[match[1]!] = (out[match[1]!] ?? 0) + Number(match[2]);
  }
  return out;
}

/** One direct Check with the bench token: the gRPC status code its decision carries. */
async function probe(address: string, token: string): Promise<number> {
  const client = new CheckClient(address);
  try {
    const response = await client.check({ headers: { authorization: `Bearer ${token}` } });
    return response.status?.code ?? 0;
  } finally {
    client.close();
  }
}

class Unavailable extends Error {}

/** The median of the finite values (a round without a CPU reading has none). */
const median = (values: number[]) => {
  const sorted = values.filter(Number.isFinite).sort((x, y) => x - y);
  if (sorted.length === 0) return NaN;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

const diff = (after: Record<string, number>, before: Record<string, number>) =>
  Object.fromEntries(
    Object.entries(after).map(([key, value]) => [key, value - (before[key] ?? 0)]),
  );

/**
 * Runs one pair in `sessions` sessions. A session starts both servers on the server core, warms
 * each up, then loads them in turn for `rounds` rounds each, alternating which side goes first
 * (A B, B A, A B, ...) so a drift of the machine weighs on both sides alike, and stops them. A
 * fresh pair of processes per session keeps one process's luck (JIT, heap layout) from deciding
 * the ratio.
 */
export async function measurePair(
  pair: Pair,
  context: ScenarioContext,
  tools: Tools,
  pinning: Pinning,
  timing: PairTiming,
  say: (text: string) => void,
): Promise<PairResult> {
  let prepared: PreparedPair;
  try {
    prepared = await pair.prepare(context, say);
  } catch (error) {
    if (error instanceof Unavailable) return { pair, skipped: error.message, timing };
    throw error;
  }
  const token = context.fixtures.token('RS256');
  const slug = `pair-${pair.name.replace(/[^a-z0-9]+/gi, '-')}`;
  const frame = join(context.dir, `${slug}.frame`);
  writeGrpcFrame(frame, token);
  // No h2load warm-up inside a round: every answered check of the run is counted and divided by
  // the server CPU of the same run, so neither figure covers a period the other does not.
  const load = async (server: ServerProcess, seconds: number): Promise<Measured> => {
    const cpuBefore = server.cpuSeconds();
    const result = await saturateWithFrame({
      h2load: tools.h2load,
      address: server.address,
      frame,
      seconds,
      warmupSeconds: 0,
      cpus: pinning.enabled ? pinning.load : undefined,
      logFile: join(context.dir, `${slug}.h2load.log`),
    });
    const cpu = server.cpuSeconds() - cpuBefore;
    return {
      load: result,
      cpuCores: cpu / seconds,
      perCpuSecond: cpu > 0 ? result.requests / cpu : NaN,
    };
  };
  const start = (config: Record<string, unknown>) =>
    startTokengate({
      config: { ...baseConfig(context), ...config },
      dir: context.dir,
      cpus: pinning.enabled ? pinning.server : undefined,
    });

  const rounds: [Measured[], Measured[]] = [[], []];
  const probes: [number[], number[]] = [[], []];
  const counted: [Record<string, number> | undefined, Record<string, number> | undefined] = [
    {},
    {},
  ];
  const sessionRatios: number[] = [];
  let rss: [number[], number[]] = [[], []];
  let idleRss: number[] = [];
  let extra: PairExtra | undefined;
  try {
    for (let session = 0; session < timing.sessions; session += 1) {
      const servers: (ServerProcess | undefined)[] = [];
      try {
        // Which side starts first alternates between sessions too.
        const configs = [prepared.a, prepared.b];
        for (const index of session % 2 === 0 ? [0, 1] : [1, 0]) {
          servers[index] = await start(configs[index]!);
        }
        const [a, b] = servers as [ServerProcess, ServerProcess];
        await prepared.ready?.(b);
        idleRss = [a.rssBytes(), b.rssBytes()];
        READY_RSS.set(a, idleRss[0]!);
        READY_RSS.set(b, idleRss[1]!);
        rss = [[], []];
        for (const index of [0, 1] as const)
          probes[index].push(await probe(servers[index]!.address, token));
        const before = [await decisions(a), await decisions(b)];
        await load(a, timing.warmupSeconds);
        await load(b, timing.warmupSeconds);
        const own: [Measured[], Measured[]] = [[], []];
        for (let round = 0; round < timing.rounds; round += 1) {
          const order = round % 2 === 0 ? [0, 1] : [1, 0];
          for (const index of order) {
            own[index]!.push(await load(servers[index]!, timing.roundSeconds));
            rss[index]!.push(servers[index]!.rssBytes());
          }
        }
        const after = [await decisions(a), await decisions(b)];
        for (const index of [0, 1] as const) {
          rounds[index].push(...own[index]);
          const now = after[index];
          const then = before[index];
          counted[index] =
            now && then && counted[index] ? add(counted[index], diff(now, then)) : undefined;
        }
        sessionRatios.push(
          median(own[1].map((run) => run.perCpuSecond)) /
            median(own[0].map((run) => run.perCpuSecond)),
        );
        if (session === timing.sessions - 1) extra = await prepared.after?.(a, b);
      } finally {
        for (const server of servers) await server?.stop();
      }
    }
  } finally {
    await prepared.close();
  }

  const side = (index: 0 | 1, label: string): Side => {
    const own = rounds[index];
    const decided = counted[index];
    const refused = probes[index].filter((code) => code !== 0);
    return {
      label,
      rounds: own,
      medianPerCpu: median(own.map((run) => run.perCpuSecond)),
      medianRps: median(own.map((run) => run.load.rps)),
      rssBytes: rss[index].at(-1) ?? NaN,
      idleRssBytes: idleRss[index] ?? NaN,
      rssAfterRounds: rss[index],
      ...(decided ? { decisions: decided } : {}),
      probe: refused.length === 0 ? 'allowed (OK)' : `denied (gRPC code ${refused.join(', ')})`,
    };
  };
  const sideA = side(0, pair.aLabel);
  const sideB = side(1, pair.bLabel);
  const perRound = rounds[0]
    .map((run, index) => rounds[1][index]!.perCpuSecond / run.perCpuSecond)
    .filter(Number.isFinite);
  return {
    pair,
    a: sideA,
    b: sideB,
    ratio: sideB.medianPerCpu / sideA.medianPerCpu,
    rpsRatio: sideB.medianRps / sideA.medianRps,
    spread: [Math.min(...perRound), Math.max(...perRound)],
    sessionRatios,
    ...(extra ? { extra } : {}),
    timing,
  };
}

const add = (x: Record<string, number>, y: Record<string, number>) => {
  const out = { ...x };
  for (const [key, value] of Object.entries(y)) out[key] = (out[key] ?? 0) + value;
  return out;
};

const failures = (side: Side) => {
  const all: Record<string, number> = {};
  for (const run of side.rounds) {
    for (const [name, count] of Object.entries(run.load.failures))
      all[name] = (all[name] ?? 0) + count;
  }
  const entries = Object.entries(all);
  return entries.length === 0 ? '0' : entries.map(([name, count]) => `${name} ${count}`).join(', ');
};

const decided = (side: Side) =>
  side.decisions === undefined
    ? 'n/a (metrics off)'
    : `${fmt(side.decisions.allow ?? 0)} allow / ${fmt(side.decisions.deny ?? 0)} deny`;

/** The section of the report: one row per side, then each pair's ratio and spread. */
export function pairLines(results: PairResult[]): string[] {
  const timing = results[0]?.timing;
  const lines = [
    "Both servers of a pair run at the same time, pinned to the server core, and are loaded one at a time with h2load (1 connection, 100 streams, saturating): a warm-up of each, then interleaved rounds (A B, B A, A B, ...). Each session starts a fresh pair of processes, so one process's luck (JIT, heap layout) does not decide the ratio. Ratios are B/A of the per-side medians over all rounds; the spread is the lowest and highest B/A of adjacent rounds, to show the noise. The targets are judged on the median ratio of checks per server CPU-second.",
    '',
    ...(timing
      ? [
          `${timing.sessions} session(s); in each, per side: ${timing.warmupSeconds} s warm-up, then ${timing.rounds} rounds of ${timing.roundSeconds} s. RSS figures are of the last session's servers. Checks per server CPU-second = checks h2load saw answered in the round / server CPU time (user + system, from \`/proc\`) over the same round.`,
          '',
        ]
      : []),
    '| pair | side | median checks per server CPU-second | median h2load rps | server CPU (median) | decisions (warm-ups and rounds, /metrics) | direct check | failures | RSS ready → after round 1 → after the last round |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const result of results) {
    if (result.skipped !== undefined || !result.a || !result.b) {
      lines.push(
        `| ${result.pair.name} | not run: ${result.skipped ?? 'no result'} | | | | | | | |`,
      );
      continue;
    }
    for (const [name, side] of [
      ['A', result.a],
      ['B', result.b],
    ] as const) {
      lines.push(
        `| ${result.pair.name} | ${name}: ${side.label} | ${fmt(side.medianPerCpu)} | ${fmt(side.medianRps)} | ${fmt(median(side.rounds.map((run) => run.cpuCores)), 2)} cores | ${decided(side)} | ${side.probe} | ${failures(side)} | ${fmt(side.idleRssBytes / 2 ** 20, 1)} → ${fmt((side.rssAfterRounds[0] ?? NaN) / 2 ** 20, 1)} → ${fmt(side.rssBytes / 2 ** 20, 1)} MB |`,
      );
    }
  }
  lines.push(
    '',
    '| pair | B/A checks per server CPU-second (median) | spread of adjacent rounds | B/A raw rps (median) | B/A per session | per-round B/A |',
    '|---|---|---|---|---|---|',
  );
  for (const result of results) {
    if (!result.a || !result.b || result.ratio === undefined) continue;
    const perRound = result.a.rounds.map((run, index) =>
      pct(result.b!.rounds[index]!.perCpuSecond / run.perCpuSecond),
    );
    lines.push(
      `| ${result.pair.name} | ${ratio(result.ratio)} | ${ratio(result.spread![0])} – ${ratio(result.spread![1])} | ${ratio(result.rpsRatio!)} | ${(result.sessionRatios ?? []).map(ratio).join(', ')} | ${perRound.join(', ')} |`,
    );
  }
  lines.push('');
  for (const result of results) {
    lines.push(`- *${result.pair.name}*: ${result.pair.description}`);
    for (const line of result.extra?.lines ?? []) lines.push(line);
  }
  return lines;
}

const ratio = (value: number) => (Number.isFinite(value) ? `${(value * 100).toFixed(1)} %` : 'n/a');

/** The target rows of the pairs. */
export function pairTargets(results: PairResult[]): PairTarget[] {
  const out: PairTarget[] = [];
  for (const result of results) {
    if (result.pair.target === undefined || result.pair.minRatio === undefined) continue;
    if (result.skipped !== undefined || result.ratio === undefined) {
      out.push({
        target: `${result.pair.target} (paired)`,
        measured: `not run: ${result.skipped ?? 'no result'}`,
        met: undefined,
      });
      continue;
    }
    const denied = result.b?.decisions?.deny ?? 0;
    const allowed = result.a!.probe.startsWith('allowed') && result.b!.probe.startsWith('allowed');
    out.push({
      target: `${result.pair.target} (paired rounds, B/A of checks per server CPU-second ≥ ${pct(result.pair.minRatio)})`,
      measured: `B/A ${ratio(result.ratio)} (rounds ${ratio(result.spread![0])} – ${ratio(result.spread![1])}); raw rps ${ratio(result.rpsRatio!)}${allowed && denied === 0 ? '' : '; checks were not all allowed'}`,
      met: result.ratio >= result.pair.minRatio && allowed && denied === 0,
      ...(result.pair.whyNot ? { why: result.pair.whyNot(result) } : {}),
    });
    out.push(...(result.extra?.targets ?? []));
  }
  return out;
}

/** Runs the pairs whose name contains `only` (all without it), one after the other. */
export async function runPairs(
  only: string | undefined,
  context: ScenarioContext,
  tools: Tools,
  pinning: Pinning,
  quick: boolean,
  say: (text: string) => void,
): Promise<PairResult[]> {
  const results: PairResult[] = [];
  const chosen = PAIRS.filter((entry) =>
    only === undefined ? !entry.onRequest : entry.name.includes(only),
  );
  for (const pair of chosen) {
    say(`pair: ${pair.name}`);
    const timing = PAIR_TIMING[quick ? 'quick' : 'full'];
    results.push(await measurePair(pair, context, tools, pinning, timing, say));
  }
  return results;
}
