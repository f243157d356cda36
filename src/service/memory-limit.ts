import { totalmem } from 'node:os';
import { constants as perfConstants, PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import type { Logger } from 'pino';

/** Resident size used as the soft limit when neither the config nor a container sets one. */
export const DEFAULT_SOFT_LIMIT_MB = 192;
/** Share of a container's memory limit that the soft limit takes by default. */
export const CONTAINER_SHARE = 0.75;
/** The least growth past the live size allowed while bounded, in %: below it collections thrash. */
export const MIN_GROWING_PERCENT = 30;
/** The most growth allowed while bounded, in %: about V8's own largest step. */
export const MAX_GROWING_PERCENT = 200;
/** Below this share of the limit, V8's own heuristic is given back. */
export const RELEASE_SHARE = 0.7;

const GC_MAJOR = perfConstants.NODE_PERFORMANCE_GC_MAJOR;
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

/** The old generation's size, from V8's heap spaces. */
export interface OldGeneration {
  /** Bytes the old-generation spaces hold from the system. */
  committed: number;
  /** Bytes in use in them, garbage included until the next full collection. */
  used: number;
}

export interface SoftMemoryLimitOptions {
  limitBytes: number;
  log: Logger;
  /** Resident set size now; `process.memoryUsage.rss` by default. */
  readRss?: () => number;
  /** The old generation now; from `v8.getHeapSpaceStatistics` by default. */
  readOldGeneration?: () => OldGeneration;
  /** Sets V8's old-generation growth; 0 gives V8's own heuristic back. */
  setGrowingPercent?: (percent: number) => void;
  /**
   * Calls back after each full collection, until the returned function is called; the default
   * observes V8's major collections (`PerformanceObserver`, entry type `gc`).
   */
  onFullCollection?: (callback: () => void) => () => void;
  intervalMs?: number;
}

/**
 * The growth past the live size that lets the old generation fill what is left under the limit
 * and no more: `(committed + limit - rss) / live - 1`, within {@link MIN_GROWING_PERCENT} and
 * {@link MAX_GROWING_PERCENT}. `live` is what a full collection left; before the first one seen,
 * the old generation's current use, which overstates it and so errs on the side of memory.
 */
export function growingPercentFor(input: {
  rss: number;
  limitBytes: number;
  oldCommitted: number;
  live: number;
}): number {
  const budget = input.oldCommitted + input.limitBytes - input.rss;
  const percent = Math.floor((budget / Math.max(input.live, 1) - 1) * 100);
  return Math.min(MAX_GROWING_PERCENT, Math.max(MIN_GROWING_PERCENT, percent));
}

/**
 * A soft memory limit, in the spirit of Go's GOMEMLIMIT: once the process's resident size passes
 * it, V8 is told how far the old generation may grow past what the last full collection left
 * alive (`--heap-growing-percent`), so that it fills what the process has left under the limit and
 * no more. The growth is worked out again every second from the resident size, the old
 * generation's committed size and its live size, so a process with a small live set collects
 * rarely and one with a large live set as often as it must. Once the resident size is back under
 * 70 % of the limit, the heuristic is V8's again.
 *
 * Why: under saturating load, objects of checks still in flight outlive the young generation's
 * collections and are promoted, and V8 then lets the old generation fill with them to several
 * times the live size (a process with a 30 MB live heap sat above 200 MB resident). Bounding the
 * growth all the time, to a fixed 30 %, kept it near 130 MB but cost 19 % of throughput in the
 * benchmark's paired comparison; a fixed bound over the limit alone still cost a process holding
 * 100,000 revocation entries up to 6 % (most likely because its larger live set made the full
 * collections both more frequent and longer). Unlike `--max-old-space-size`, a soft limit never
 * kills the process: a live set larger than the limit costs more collections, not a crash.
 *
 * V8 reads `--heap-growing-percent` each time it sets the next collection's limit, so setting it
 * while running takes effect. When the command line sets the flag itself, the operator has
 * decided and the limit does nothing (see {@link heapGrowthFromCommandLine}).
 */
export class SoftMemoryLimit {
  private timer: NodeJS.Timeout | undefined;
  /** The growth V8 is held to, in %; 0 while V8 decides, so it is also whether the bound applies. */
  private percent = 0;
  /** The old generation's use after the latest full collection seen while bounded. */
  private live: number | undefined;
  private stopObserving: (() => void) | undefined;
  private readonly readRss: () => number;
  private readonly readOldGeneration: () => OldGeneration;
  private readonly setGrowingPercent: (percent: number) => void;
  private readonly onFullCollection: (callback: () => void) => () => void;

  constructor(private readonly options: SoftMemoryLimitOptions) {
    this.readRss = options.readRss ?? (() => process.memoryUsage.rss());
    this.readOldGeneration = options.readOldGeneration ?? oldGeneration;
    this.setGrowingPercent =
      options.setGrowingPercent ??
      ((percent) => setFlagsFromString(`--heap-growing-percent=${percent}`));
    this.onFullCollection = options.onFullCollection ?? observeFullCollections;
  }

  /** Whether the bound applies now. */
  get bounded(): boolean {
    return this.percent > 0;
  }

  /** The growth past the live size V8 is held to now, in %; 0 when V8 decides. */
  get growingPercent(): number {
    return this.percent;
  }

  start(): void {
    this.timer = setInterval(() => this.check(), this.options.intervalMs ?? 1_000);
    this.timer.unref();
    this.check();
  }

  /** Stops checking; V8's heuristic is given back if the bound applied. */
  stop(): void {
    clearInterval(this.timer);
    if (this.bounded) this.release();
  }

  /** Compares the resident size with the limit once; the timer calls it every second. */
  check(): void {
    const rss = this.readRss();
    const { limitBytes, log } = this.options;
    if (!this.bounded && rss > limitBytes) {
      this.live = undefined;
      this.stopObserving = this.onFullCollection(() => {
        this.live = this.readOldGeneration().used;
      });
      this.adjust(rss);
      log.info(
        { rssMb: mb(rss), softLimitMb: mb(limitBytes), heapGrowingPercent: this.percent },
        'over the soft memory limit; old-generation growth bounded',
      );
    } else if (this.bounded && rss < limitBytes * RELEASE_SHARE) {
      this.release();
      log.info({ rssMb: mb(rss), softLimitMb: mb(limitBytes) }, 'back under the soft memory limit');
    } else if (this.bounded) {
      this.adjust(rss);
    }
  }

  private adjust(rss: number): void {
    const old = this.readOldGeneration();
    const percent = growingPercentFor({
      rss,
      limitBytes: this.options.limitBytes,
      oldCommitted: old.committed,
      live: this.live ?? old.used,
    });
    if (percent !== this.percent) {
      this.percent = percent;
      this.setGrowingPercent(percent);
    }
  }

  private release(): void {
    this.stopObserving?.();
    this.stopObserving = undefined;
    this.percent = 0;
    this.setGrowingPercent(0);
  }
}

const YOUNG_SPACES = new Set(['new_space', 'new_large_object_space']);

/** Every space but the young generation's, where promoted objects wait for a full collection. */
function oldGeneration(): OldGeneration {
  let committed = 0;
  let used = 0;
  for (const space of getHeapSpaceStatistics()) {
    if (YOUNG_SPACES.has(space.space_name)) continue;
    committed += space.space_size;
    used += space.space_used_size;
  }
  return { committed, used };
}

function observeFullCollections(callback: () => void): () => void {
  const observer = new PerformanceObserver((list) => {
    if (list.getEntries().some((entry) => (entry as GcEntry).detail?.kind === GC_MAJOR)) {
      callback();
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  return () => observer.disconnect();
}

interface GcEntry {
  detail?: { kind?: number };
}

/** Whether `node` was started with `--heap-growing-percent`, which then decides alone. */
export function heapGrowthFromCommandLine(execArgv: readonly string[] = process.execArgv): boolean {
  return execArgv.some((arg) => FLAG.test(arg));
}

const mb = (bytes: number) => Math.round(bytes / 2 ** 20);
