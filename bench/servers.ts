import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { ROOT } from '../test/support/paths.js';

export const CLI = join(ROOT, 'dist/src/cli/main.js');
const BASELINE = join(ROOT, 'dist/bench/baseline-server.js');
const TICKS_PER_SECOND = Number(spawnSync('getconf', ['CLK_TCK']).stdout?.toString().trim()) || 100;

/** How processes are placed on cores: server on the last core, load generators on the others. */
export interface Pinning {
  enabled: boolean;
  server: string;
  load: string;
  /** How many cores the load generators get. */
  loadCount: number;
}

export function choosePinning(cores: number): Pinning {
  const hasTaskset = spawnSync('taskset', ['--version']).status === 0;
  if (!hasTaskset || cores < 2) return { enabled: false, server: '', load: '', loadCount: cores };
  return { enabled: true, server: String(cores - 1), load: `0-${cores - 2}`, loadCount: cores - 1 };
}

/** Prefixes a command with `taskset -c CPUS` when pinning is on. */
export function pinned(
  cpus: string | undefined,
  command: string,
  args: string[],
): [string, string[]] {
  return cpus ? ['taskset', ['-c', cpus, command, ...args]] : [command, args];
}

/** A server process under test, with its CPU time and memory readable at any moment. */
export class ServerProcess {
  private constructor(
    readonly name: string,
    readonly child: ChildProcess,
    readonly address: string,
    readonly httpAddress: string | undefined,
    private readonly lines: string[],
  ) {}

  /** User plus system CPU seconds of the process and all its threads so far. */
  cpuSeconds(): number {
    return cpuSecondsOf(this.child.pid!);
  }

  /** Resident set size in bytes. */
  rssBytes(): number {
    const status = readFileSync(`/proc/${this.child.pid}/status`, 'utf8');
    const match = /VmRSS:\s+(\d+) kB/.exec(status);
    return match ? Number(match[1]) * 1024 : NaN;
  }

  /** The worker pids when the server runs under cluster, else its own pid. */
  pids(): number[] {
    const children = spawnSync('pgrep', ['-P', String(this.child.pid)])
      .stdout.toString()
      .trim();
    const pids = children === '' ? [] : children.split('\n').map(Number);
    return [this.child.pid!, ...pids];
  }

  /** CPU seconds of the process and every child it forked. */
  treeCpuSeconds(): number {
    return this.pids().reduce((sum, pid) => sum + cpuSecondsOf(pid), 0);
  }

  output(): string {
    return this.lines.slice(-20).join('\n');
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
    await once(this.child, 'exit');
    clearTimeout(timer);
  }

  /**
   * Spawns `command`, keeps only the first lines of its output (the rest is drained unread so a
   * chatty server pays for writing its log lines but the bench does not store them), and waits
   * for `ready` to return the addresses it announces.
   */
  static async start(
    name: string,
    command: [string, string[]],
    ready: (line: string) => { grpc: string; http?: string } | undefined,
    readyCount = 1,
    timeoutMs = 30_000,
  ): Promise<ServerProcess> {
    const child = spawn(command[0], command[1], { stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: string[] = [];
    const found: { grpc: string; http?: string }[] = [];
    child.stderr!.on('data', (chunk: Buffer) => lines.push(chunk.toString()));

    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`${name} did not start\n${lines.join('\n')}`));
      }, timeoutMs);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`${name} exited with ${code}\n${lines.join('\n')}`));
      });
      // Lines are split only until the server is ready; after that each chunk is dropped as it
      // comes, so that reading a server's audit log costs the bench (and the load generator it
      // shares the machine with) as little as a log collector's pipe would.
      let partial = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        if (found.length >= readyCount) return;
        const text = partial + chunk.toString();
        const complete = text.split('\n');
        partial = complete.pop()!;
        for (const line of complete) {
          lines.push(line);
          const addresses = ready(line);
          if (addresses !== undefined) found.push(addresses);
          if (found.length < readyCount) continue;
          clearTimeout(timer);
          resolve();
          return;
        }
      });
    });
    return new ServerProcess(name, child, found[0]!.grpc, found[0]!.http, lines);
  }
}

/** The server's `/metrics` text, or undefined when it serves none (the baseline, metrics off). */
export async function metricsText(server: ServerProcess): Promise<string | undefined> {
  if (server.httpAddress === undefined) return undefined;
  const response = await fetch(`http://${server.httpAddress}/metrics`);
  return response.ok ? response.text() : undefined;
}

/** Like {@link metricsText}, but undefined also when the server cannot be reached. */
export async function metricsTextIfReachable(server: ServerProcess): Promise<string | undefined> {
  try {
    return await metricsText(server);
  } catch {
    return undefined;
  }
}

/** The value of one unlabelled (or single-series) metric, NaN when absent. */
export async function gauge(server: ServerProcess, name: string): Promise<number> {
  const text = (await metricsText(server)) ?? '';
  const match = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+]+)$`, 'm').exec(text);
  return match ? Number(match[1]) : NaN;
}

function cpuSecondsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

export function startBaseline(pinning: Pinning, address = '127.0.0.1:0'): Promise<ServerProcess> {
  return ServerProcess.start(
    'baseline',
    pinned(pinning.enabled ? pinning.server : undefined, process.execPath, [BASELINE, address]),
    (line) =>
      line.startsWith('listening ') ? { grpc: line.slice('listening '.length) } : undefined,
  );
}

export interface TokengateStart {
  config: Record<string, unknown>;
  dir: string;
  cpus?: string | undefined;
  nodeArgs?: string[];
}

/** Runs `tokengate serve` from the built CLI on `config` and waits until every worker listens. */
export function startTokengate(options: TokengateStart): Promise<ServerProcess> {
  const configPath = join(
    options.dir,
    `tokengate-${Date.now()}-${Math.random().toString(36).slice(2)}.yaml`,
  );
  writeFileSync(configPath, stringify(options.config));
  const workers = Number(options.config.workers ?? 1);
  return ServerProcess.start(
    'tokengate',
    pinned(options.cpus, process.execPath, [
      ...(options.nodeArgs ?? []),
      CLI,
      'serve',
      '--config',
      configPath,
    ]),
    (line) => {
      if (!line.includes('"tokengate listening"')) return undefined;
      const parsed = JSON.parse(line) as { grpc: string; http: string };
      return { grpc: parsed.grpc, http: parsed.http };
    },
    workers,
  );
}
