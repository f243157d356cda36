import { totalmem } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import type { Logger } from 'pino';

/** Resident size used as the soft limit when neither the config nor a container sets one. */
export const DEFAULT_SOFT_LIMIT_MB = 192;
/** Share of a container's memory limit that the soft limit takes by default. */
export const CONTAINER_SHARE = 0.75;
/** Growth past the live size allowed while over the limit, in %. */
export const BOUNDED_GROWING_PERCENT = 30;
/** Below this share of the limit, V8's own heuristic is given back. */
export const RELEASE_SHARE = 0.7;

const FLAG = /^--heap[-_]growing[-_]percent(=|$)/;

export type SoftLimitSetting = number | 'auto' | 'off';

/**
 * The soft limit in bytes for a `memory.softLimit` setting, or undefined when there is none.
 * `auto` takes 75 % of the container's memory limit (cgroups, via `process.constrainedMemory`),
 * shared among the workers, and 192 MB per process where nothing limits memory.
 */
export function softLimitBytes(
  setting: SoftLimitSetting,
  workers: number,
  constrained: number | undefined = process.constrainedMemory?.(),
  physical: number = totalmem(),
): number | undefined {
  if (setting === 'off') return undefined;
  if (typeof setting === 'number') return setting * 2 ** 20;
  // No limit reads as 0 on some Node versions and as 2^64 - 1 (cgroup "max") on others.
  const limited = constrained !== undefined && constrained > 0 && constrained < physical;
  return limited ? (constrained * CONTAINER_SHARE) / workers : DEFAULT_SOFT_LIMIT_MB * 2 ** 20;
}

export interface SoftMemoryLimitOptions {
  limitBytes: number;
  log: Logger;
  /** Resident set size now; `process.memoryUsage.rss` by default. */
  readRss?: () => number;
  /** Sets V8's old-generation growth; 0 gives V8's own heuristic back. */
  setGrowingPercent?: (percent: number) => void;
  intervalMs?: number;
}

/**
 * A soft memory limit, in the spirit of Go's GOMEMLIMIT: while the process's resident size is
 * over it, V8 is asked to collect the old generation once it has grown 30 % past what was alive
 * after the last full collection, instead of letting it grow as far as its own heuristic does;
 * once the resident size is back under 70 % of the limit, the heuristic is V8's again.
 *
 * Why: under saturating load, objects of checks still in flight outlive the young generation's
 * collections and are promoted, and V8 then lets the old generation fill with them to several
 * times the live size (a process with a 30 MB live heap sat above 200 MB resident). Bounding the
 * growth all the time kept it near 130 MB but cost 19 % of throughput in the benchmark's paired
 * comparison, so the bound applies only where memory is short. Unlike
 * `--max-old-space-size`, a soft limit never kills the process: a live set larger than the limit
 * costs more collections, not a crash.
 *
 * V8 reads `--heap-growing-percent` each time it sets the next collection's limit, so setting it
 * while running takes effect. When the command line sets the flag itself, the operator has
 * decided and the limit does nothing (see {@link heapGrowthFromCommandLine}).
 */
export class SoftMemoryLimit {
  private timer: NodeJS.Timeout | undefined;
  private boundNow = false;
  private readonly readRss: () => number;
  private readonly setGrowingPercent: (percent: number) => void;

  constructor(private readonly options: SoftMemoryLimitOptions) {
    this.readRss = options.readRss ?? (() => process.memoryUsage.rss());
    this.setGrowingPercent =
      options.setGrowingPercent ??
      ((percent) => setFlagsFromString(`--heap-growing-percent=${percent}`));
  }

  /** Whether the bound applies now. */
  get bounded(): boolean {
    return this.boundNow;
  }

  start(): void {
    this.timer = setInterval(() => this.check(), this.options.intervalMs ?? 1_000);
    this.timer.unref();
    this.check();
  }

  /** Stops checking; V8's heuristic is given back if the bound applied. */
  stop(): void {
    clearInterval(this.timer);
    if (this.boundNow) this.setGrowingPercent(0);
    this.boundNow = false;
  }

  /** Compares the resident size with the limit once; the timer calls it every second. */
  check(): void {
    const rss = this.readRss();
    const { limitBytes, log } = this.options;
    if (!this.boundNow && rss > limitBytes) {
      this.boundNow = true;
      this.setGrowingPercent(BOUNDED_GROWING_PERCENT);
      log.info(
        {
          rssMb: mb(rss),
          softLimitMb: mb(limitBytes),
          heapGrowingPercent: BOUNDED_GROWING_PERCENT,
        },
        'over the soft memory limit; old-generation growth bounded',
      );
    } else if (this.boundNow && rss < limitBytes * RELEASE_SHARE) {
      this.boundNow = false;
      this.setGrowingPercent(0);
      log.info({ rssMb: mb(rss), softLimitMb: mb(limitBytes) }, 'back under the soft memory limit');
    }
  }
}

/** Whether `node` was started with `--heap-growing-percent`, which then decides alone. */
export function heapGrowthFromCommandLine(execArgv: readonly string[] = process.execArgv): boolean {
  return execArgv.some((arg) => FLAG.test(arg));
}

const mb = (bytes: number) => Math.round(bytes / 2 ** 20);
