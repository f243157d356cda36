import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ENVOY_CONFIG, startEnvoy, type RunningEnvoy } from '../test/support/envoy.js';
import { runH2load, type LoadResult } from './load.js';
import { baseConfig, type Timing, type Tools } from './measure.js';
import type { ScenarioContext } from './scenarios.js';
import { startBaseline, startTokengate, type Pinning, type ServerProcess } from './servers.js';
import { fmt, ms } from './report.js';

/** A route answered by Envoy itself with ext_authz on; `/envoy-health` is the same without it. */
const AUTHZ_PATH = '/bench/authz';
const ALONE_PATH = '/envoy-health';

/** Envoy alone, or with ext_authz to the no-op server or to tokengate over TCP or a socket. */
export type EnvoySetup = 'alone' | 'noop' | 'tcp' | 'unix';

export interface EnvoyRow {
  kind: EnvoySetup;
  setup: string;
  rps: number;
  load: LoadResult;
}

/** `deploy/envoy/envoy.yaml` plus one direct-response route that keeps ext_authz on. */
function benchEnvoyConfig(): Record<string, any> {
  const config = parse(readFileSync(ENVOY_CONFIG, 'utf8')) as Record<string, any>;
  const manager = config.static_resources.listeners[0].filter_chains[0].filters[0].typed_config;
  manager.route_config.virtual_hosts[0].routes.unshift({
    match: { path: AUTHZ_PATH },
    direct_response: { status: 200, body: { inline_string: 'ok\n' } },
  });
  return config;
}

function pin(pid: number | undefined, cpus: string): void {
  if (pid !== undefined) spawnSync('taskset', ['-a', '-pc', cpus, String(pid)]);
}

/**
 * Latency through a real Envoy at fixed rates: the direct-response route alone, then the same
 * kind of route behind ext_authz to tokengate over TCP and over a Unix socket.
 */
export async function measureEnvoy(
  context: ScenarioContext,
  tools: Tools,
  pinning: Pinning,
  timing: Timing,
  rates: number[],
): Promise<{ rows: EnvoyRow[]; lines: string[] }> {
  const token = context.fixtures.token('RS256');
  const rows: EnvoyRow[] = [];
  const setups: { kind: EnvoySetup; name: string; grpc?: string; path: string }[] = [
    { kind: 'alone', name: 'Envoy alone (direct response, ext_authz off)', path: ALONE_PATH },
    {
      kind: 'noop',
      name: 'Envoy + ext_authz → the no-op baseline server over TCP',
      grpc: '127.0.0.1:0',
      path: AUTHZ_PATH,
    },
    {
      kind: 'tcp',
      name: 'Envoy + ext_authz → tokengate over TCP',
      grpc: '127.0.0.1:0',
      path: AUTHZ_PATH,
    },
    {
      kind: 'unix',
      name: 'Envoy + ext_authz → tokengate over a Unix socket',
      grpc: `unix:${join(context.dir, 'tokengate.sock')}`,
      path: AUTHZ_PATH,
    },
  ];

  for (const setup of setups) {
    let tokengate: ServerProcess | undefined;
    let envoy: RunningEnvoy | undefined;
    try {
      tokengate =
        setup.kind === 'noop'
          ? await startBaseline(pinning)
          : await startTokengate({
              config: { ...baseConfig(context), grpc: { address: setup.grpc ?? '127.0.0.1:0' } },
              dir: context.dir,
              cpus: pinning.enabled ? pinning.server : undefined,
            });
      envoy = await startEnvoy({
        bin: tools.envoy!,
        config: benchEnvoyConfig(),
        tokengate: tokengate.address,
        upstreamPort: 9,
      });
      if (pinning.enabled) pin(envoy.child.process.pid, pinning.load);

      for (const rps of rates) {
        const load = await runH2load({
          h2load: tools.h2load,
          url: `${envoy.url}${setup.path}`,
          headers: { authorization: `Bearer ${token}` },
          connections: 10,
          streams: 1,
          seconds: timing.seconds,
          warmupSeconds: timing.warmupSeconds,
          rps,
          cpus: pinning.enabled ? pinning.load : undefined,
          logFile: join(context.dir, 'envoy.h2load.log'),
        });
        rows.push({ kind: setup.kind, setup: setup.name, rps, load });
      }
    } finally {
      await envoy?.stop();
      await tokengate?.stop();
    }
  }

  const find = (rps: number, kind: EnvoySetup) => envoyRow(rows, rps, kind);
  const lines = [
    `h2load over h2c, 10 connections, fixed total rate; Envoy ${pinning.enabled ? `and h2load on core(s) ${pinning.load}, the ext_authz server on core ${pinning.server}` : 'unpinned'}; one repeated RS256 token (the steady state of a cache). Every request must get 200 through the ext_authz routes, so a deny would show as a failure. The no-op baseline server behind Envoy shows what the ext_authz round trip itself costs on this machine; the last two columns are tokengate's rows minus that one.`,
    '',
    '| setup | rate | p50 | p99 | p50 / p99 over Envoy alone | p50 / p99 over the no-op server behind Envoy | failures |',
    '|---|---|---|---|---|---|---|',
    ...rows.map((row) => {
      const over = (base: EnvoyRow | undefined) =>
        base === undefined || row === base || row.kind === 'alone'
          ? '—'
          : `${ms(row.load.p50Ms - base.load.p50Ms)} / ${ms(row.load.p99Ms - base.load.p99Ms)}`;
      const alone = find(row.rps, 'alone');
      const noop = row.kind === 'noop' ? undefined : find(row.rps, 'noop');
      const failures = Object.entries(row.load.failures);
      return `| ${row.setup} | ${fmt(row.rps)} /s (measured ${fmt(row.load.rps)}) | ${ms(row.load.p50Ms)} | ${ms(row.load.p99Ms)} | ${over(alone)} | ${over(noop)} | ${failures.length === 0 ? '0' : failures.map(([k, v]) => `${k} ${v}`).join(', ')} |`;
    }),
  ];
  return { rows, lines };
}

/** The row of one setup at one rate. */
export function envoyRow(rows: EnvoyRow[], rps: number, kind: EnvoySetup): EnvoyRow | undefined {
  return rows.find((row) => row.rps === rps && row.kind === kind);
}
