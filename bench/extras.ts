import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../test/support/paths.js';
import { writeGhzData, writeGrpcFrame } from './fixtures.js';
import { runGhz, runH2load, saturateWithFrame } from './load.js';
import { baseConfig, measured, type Measured, type Timing, type Tools } from './measure.js';
import type { ScenarioContext } from './scenarios.js';
import { gauge, startTokengate, type Pinning } from './servers.js';
import { fmt, ms } from './report.js';

const CHECK_PATH = '/envoy.service.auth.v3.Authorization/Check';

/** Resident memory before and after filling the cache with `count` distinct verified tokens. */
export async function measureMemory(
  context: ScenarioContext,
  tools: Tools,
  pinning: Pinning,
  count: number,
): Promise<{ lines: string[]; rssMb: number; idleMb: number; entries: number }> {
  const server = await startTokengate({
    config: { ...baseConfig(context), tokens: { cache: { maxEntries: count } } },
    dir: context.dir,
    cpus: pinning.enabled ? pinning.server : undefined,
  });
  try {
    const idleMb = server.rssBytes() / 2 ** 20;
    const chunk = 10_000;
    const dataFile = join(context.dir, 'memory.bin');
    let failures = 0;
    for (let sent = 0; sent < count; sent += chunk) {
      writeGhzData(dataFile, context.fixtures.tokens(Math.min(chunk, count - sent), 'EdDSA'));
      const result = await runGhz({
        ghz: tools.ghz,
        target: server.address,
        dataFile,
        connections: 2,
        concurrency: 50,
        seconds: 0,
        total: Math.min(chunk, count - sent),
        timeoutMs: 2_000,
        cpus: pinning.enabled ? pinning.load : undefined,
      });
      failures += Object.values(result.failures).reduce((sum, value) => sum + value, 0);
    }
    const rssMb = server.rssBytes() / 2 ** 20;
    const entries = await gauge(server, 'tokengate_token_cache_entries');
    return {
      rssMb,
      idleMb,
      entries,
      lines: [
        `tokengate with \`tokens.cache.maxEntries: ${count}\`, after ${fmt(count)} checks of distinct EdDSA tokens (each verified once and cached):`,
        '',
        '| resident memory idle | resident memory with the cache full | cache entries (from /metrics) | failed checks |',
        '|---|---|---|---|',
        `| ${fmt(idleMb, 1)} MB | ${fmt(rssMb, 1)} MB | ${fmt(entries)} | ${failures} |`,
      ],
    };
  } finally {
    await server.stop();
  }
}

/**
 * Checks arriving faster than they can be verified: cache off, a small in-flight bound, many
 * concurrent callers with Envoy's 200 ms deadline. Late or excess checks must be refused at once.
 */
export async function measureOverload(
  context: ScenarioContext,
  tools: Tools,
  pinning: Pinning,
  timing: Timing,
): Promise<{ lines: string[]; maxMs: number; failures: Record<string, number> }> {
  const maxInFlight = 64;
  const server = await startTokengate({
    config: {
      ...baseConfig(context),
      grpc: { address: '127.0.0.1:0', maxInFlight },
      tokens: { cache: { maxEntries: 0 } },
    },
    dir: context.dir,
    cpus: pinning.enabled ? pinning.server : undefined,
  });
  try {
    const dataFile = join(context.dir, 'overload.bin');
    writeGhzData(dataFile, context.fixtures.tokens(200, 'RS256'));
    const result = await runGhz({
      ghz: tools.ghz,
      target: server.address,
      dataFile,
      connections: 2,
      concurrency: 400,
      seconds: timing.seconds,
      timeoutMs: 200,
      cpus: pinning.enabled ? pinning.load : undefined,
    });
    const statuses = Object.entries(result.failures)
      .map(([name, count]) => `${name} ${fmt(count)}`)
      .join(', ');
    return {
      maxMs: result.maxMs,
      failures: result.failures,
      lines: [
        `Cache off (every check verifies RS256), \`grpc.maxInFlight: ${maxInFlight}\`, ghz with 400 concurrent calls on 2 connections and a 200 ms deadline, ${timing.seconds} s:`,
        '',
        '| answered OK | OK rps | refused or failed, by gRPC status | p50 / p99 of OK calls | slowest OK call |',
        '|---|---|---|---|---|',
        `| ${fmt(result.requests)} | ${fmt(result.rps)} | ${statuses || 'none'} | ${ms(result.p50Ms)} / ${ms(result.p99Ms)} | ${ms(result.maxMs)} |`,
      ],
    };
  } finally {
    await server.stop();
  }
}

/** One vs two worker processes, unpinned (each worker needs a core), with 2 h2load connections. */
export async function measureWorkers(
  context: ScenarioContext,
  tools: Tools,
  timing: Timing,
): Promise<{ lines: string[]; rows: { workers: number; name: string; measured: Measured }[] }> {
  const rows: { workers: number; name: string; measured: Measured }[] = [];
  const cases = [
    { name: 'repeated RS256 token', config: {} },
    { name: 'RS256, cache off', config: { tokens: { cache: { maxEntries: 0 } } } },
  ];
  for (const workers of [1, 2]) {
    for (const entry of cases) {
      const frame = join(context.dir, 'workers.frame');
      writeGrpcFrame(frame, context.fixtures.token('RS256'));
      const server = await startTokengate({
        config: { ...baseConfig(context), ...entry.config, workers },
        dir: context.dir,
      });
      try {
        const run = () =>
          runH2load({
            h2load: tools.h2load,
            url: `http://${server.address}${CHECK_PATH}`,
            dataFile: frame,
            grpc: true,
            connections: 2,
            streams: 100,
            seconds: timing.seconds,
            warmupSeconds: timing.warmupSeconds,
            logFile: join(context.dir, 'workers.h2load.log'),
          });
        rows.push({
          workers,
          name: entry.name,
          measured: await measured(server, run, timing.seconds + timing.warmupSeconds),
        });
      } finally {
        await server.stop();
      }
    }
  }
  const one = (name: string) => rows.find((row) => row.workers === 1 && row.name === name);
  return {
    rows,
    lines: [
      'Nothing pinned: the workers and h2load (2 connections, so each worker gets one) share both cores.',
      '',
      '| scenario | workers | h2load rps | vs 1 worker | tokengate CPU (all processes) | failures |',
      '|---|---|---|---|---|---|',
      ...rows.map(
        (row) =>
          `| ${row.name} | ${row.workers} | ${fmt(row.measured.load.rps)} | ${Math.round((row.measured.load.rps / one(row.name)!.measured.load.rps) * 100)} % | ${fmt(row.measured.cpuCores, 2)} cores | ${Object.keys(row.measured.load.failures).length === 0 ? '0' : JSON.stringify(row.measured.load.failures)} |`,
      ),
    ],
  };
}

/** Writes a `.cpuprofile` of tokengate under the repeated-token load and returns its path. */
export async function profileRepeatedToken(
  context: ScenarioContext,
  tools: Tools,
  pinning: Pinning,
  seconds: number,
): Promise<string> {
  const dir = join(ROOT, 'bench/profiles');
  mkdirSync(dir, { recursive: true });
  const before = new Set(readdirSync(dir));
  const server = await startTokengate({
    config: baseConfig(context),
    dir: context.dir,
    cpus: pinning.enabled ? pinning.server : undefined,
    nodeArgs: ['--cpu-prof', '--cpu-prof-dir', dir],
  });
  const frame = join(context.dir, 'profile.frame');
  writeGrpcFrame(frame, context.fixtures.token('RS256'));
  try {
    await saturateWithFrame({
      h2load: tools.h2load,
      address: server.address,
      frame,
      seconds,
      warmupSeconds: 1,
      cpus: pinning.enabled ? pinning.load : undefined,
      logFile: join(context.dir, 'profile.h2load.log'),
    });
  } finally {
    await server.stop();
  }
  const written = readdirSync(dir)
    .filter((name) => name.endsWith('.cpuprofile') && !before.has(name))
    .map((name) => join(dir, name));
  const newest = written.sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
  if (newest === undefined || !existsSync(newest)) throw new Error('no .cpuprofile was written');
  return newest;
}
