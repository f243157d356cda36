import type { Logger } from 'pino';
import { readFile } from 'node:fs/promises';
import { ConfigError, parseConfig, type LoadedConfig } from '../config/load.js';
import type { Config, IssuerConfig } from '../config/schema.js';
import { watchConfigFile, type ConfigWatch } from '../config/watch.js';
import type { Snapshot } from '../decision/snapshot.js';
import type { Metrics } from '../observability/metrics.js';
import { policyStageFor } from '../policy/policy-stage.js';
import type { IssuerKeyStore } from '../tokens/key-store.js';
import type { TokenCache } from '../tokens/token-cache.js';
import { TokenVerifier } from '../tokens/verifier.js';

/**
 * Top-level keys a reload applies. Every other key (listener addresses, workers, revocation,
 * admin, audit, metrics, and `tokens.cache`) is built once at start: a change to it is logged
 * and ignored until the process restarts.
 */
const RELOADABLE = new Set([
  'issuers',
  'policies',
  'headers',
  'realm',
  'tokens',
  'log',
  'shutdown',
]);

/** What the service is running now; the reloader reads it and hands back the next one. */
export interface RunningState {
  readonly loaded: LoadedConfig;
  readonly snapshot: Snapshot;
  readonly keyStores: readonly IssuerKeyStore[];
}

export interface ReloaderOptions {
  path: string;
  log: Logger;
  metrics: Metrics;
  cache: TokenCache;
  current(): RunningState;
  /** Makes (but does not start) the key store of a new or changed issuer. */
  createKeyStore(issuer: IssuerConfig): IssuerKeyStore;
  /** Installs the next state; called between checks, so each check sees one snapshot. */
  swap(next: RunningState): void;
  /** Longest wait for a new issuer's first key load before the swap, in milliseconds. */
  keyWait: number;
  /** Quiet time after a file event before reading, in milliseconds. */
  debounce?: number;
  now?: () => number;
}

export type ReloadResult = 'applied' | 'unchanged' | 'rejected';

/**
 * Watches the config file and applies each new version that parses and validates; a bad one is
 * logged and counted, and the old config keeps serving. Reloads run one at a time: a change
 * seen during a reload runs once more after it.
 */
export class ConfigReloader {
  private watch: ConfigWatch | undefined;
  private running: Promise<ReloadResult> | undefined;
  private again = false;
  private lastText: string | undefined;

  constructor(private readonly options: ReloaderOptions) {}

  start(): void {
    this.watch = watchConfigFile(this.options.path, () => void this.reload(), {
      debounce: this.options.debounce,
      onError: (error) =>
        this.options.log.error({ err: { message: error.message } }, 'config watch failed'),
    });
  }

  stop(): void {
    this.watch?.close();
  }

  /** Reads the file and applies it; resolves once this and any queued reload are done. */
  async reload(): Promise<ReloadResult> {
    if (this.running !== undefined) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      let result: ReloadResult;
      do {
        this.again = false;
        result = await this.reloadOnce();
      } while (this.again);
      return result;
    })();
    try {
      return await this.running;
    } finally {
      this.running = undefined;
    }
  }

  private async reloadOnce(): Promise<ReloadResult> {
    const { log, metrics, path } = this.options;

    let loaded: LoadedConfig;
    try {
      const text = await readConfigText(path);
      // An unchanged file is common (a touch, an event of the kubelet's): skip the parse.
      if (text === this.lastText) return 'unchanged';
      this.lastText = text;
      loaded = parseConfig(text, path);
    } catch (error) {
      const problems =
        error instanceof ConfigError
          ? error.problems
          : [{ field: '(root)', message: (error as Error).message }];
      log.error({ config: path, problems }, 'config reload rejected; the old config keeps serving');
      metrics.configReloaded('failure');
      return 'rejected';
    }

    const current = this.options.current();
    if (loaded.hash === current.loaded.hash) return 'unchanged';

    try {
      await this.apply(current, loaded);
    } catch (error) {
      this.lastText = undefined;
      log.error(
        { config: path, err: { message: (error as Error).message } },
        'config reload failed; the old config keeps serving',
      );
      metrics.configReloaded('failure');
      return 'rejected';
    }
    return 'applied';
  }

  private async apply(current: RunningState, next: LoadedConfig): Promise<void> {
    const { log, metrics } = this.options;
    const old = current.loaded.config;
    const { config, ignored } = keepRestartOnly(old, next.config);
    if (ignored.length > 0) {
      log.warn({ fields: ignored }, 'config changes ignored until restart');
    }

    const reused = new Map(
      current.keyStores.map((store, at) => [storeKey(old.issuers[at]!), store]),
    );
    const created: IssuerKeyStore[] = [];
    const keyStores = config.issuers.map((issuer) => {
      const store = reused.get(storeKey(issuer));
      if (store !== undefined) {
        reused.delete(storeKey(issuer));
        return store;
      }
      const fresh = this.options.createKeyStore(issuer);
      created.push(fresh);
      return fresh;
    });

    let policy;
    try {
      policy = policyStageFor(config);
    } catch (error) {
      for (const store of created) store.stop();
      throw error;
    }
    await waitAtMost(Promise.all(created.map((store) => store.start())), this.options.keyWait);

    const verifier = new TokenVerifier(
      config.issuers.map((issuer, at) => ({ config: issuer, keys: keyStores[at]! })),
      this.options.cache,
      this.options.now,
    );
    const snapshot: Snapshot = { ...current.snapshot, config, hash: next.hash, verifier, policy };
    if (JSON.stringify(old.issuers) !== JSON.stringify(config.issuers)) this.options.cache.clear();

    this.options.swap({ loaded: { ...next, config }, snapshot, keyStores });
    for (const store of reused.values()) store.stop();
    if (config.log.level !== old.log.level) log.level = config.log.level;

    metrics.configReloaded('success');
    metrics.configLoaded(next.hash);
    log.info(
      {
        config: next.source,
        configHash: next.hash,
        issuersAdded: created.map((store) => store.issuerName),
        issuersRemoved: [...reused.values()].map((store) => store.issuerName),
      },
      'config reloaded',
    );
  }
}

/** Issuers whose name, key source and fetch options are unchanged keep their key store. */
function storeKey(issuer: IssuerConfig): string {
  return JSON.stringify([issuer.name, issuer.jwks]);
}

/** `next` with every restart-only value put back to what is running, and the fields changed. */
function keepRestartOnly(old: Config, next: Config): { config: Config; ignored: string[] } {
  const merged: Record<string, unknown> = { ...next };
  const ignored: string[] = [];
  const keys = new Set([...Object.keys(old), ...Object.keys(next)]);

  for (const key of keys) {
    if (RELOADABLE.has(key)) continue;
    const before = (old as Record<string, unknown>)[key];
    if (JSON.stringify(before) === JSON.stringify(merged[key])) continue;
    ignored.push(key);
    if (before === undefined) delete merged[key];
    else merged[key] = before;
  }

  if (JSON.stringify(old.tokens.cache) !== JSON.stringify(next.tokens.cache)) {
    ignored.push('tokens.cache');
    merged.tokens = Object.freeze({ ...next.tokens, cache: old.tokens.cache });
  }
  return { config: Object.freeze(merged) as Config, ignored };
}

function waitAtMost(work: Promise<unknown>, ms: number): Promise<unknown> {
  return Promise.race([work, new Promise((resolve) => setTimeout(resolve, ms).unref())]);
}

async function readConfigText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError(path, [{ field: '(file)', message: (error as Error).message }]);
  }
}
