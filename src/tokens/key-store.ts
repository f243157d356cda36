import { readFile } from 'node:fs/promises';
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  type JSONWebKeySet,
  type JWSHeaderParameters,
  type FlattenedJWSInput,
  type RemoteJWKSet,
} from 'jose';
import type { Logger } from 'pino';
import { TokengateError } from '../decision/errors.js';
import { unusableKeyReason } from './weak-keys.js';

/** Where an issuer's keys come from. `static` is for the development issuer and tests. */
export type KeySource =
  | { kind: 'uri'; uri: string }
  | { kind: 'file'; path: string }
  | { kind: 'static'; jwks: JSONWebKeySet };

export interface KeyStoreOptions {
  /** Time between background refreshes, in milliseconds. */
  refreshInterval: number;
  /** Minimum time between two refreshes asked for by an unknown `kid`, in milliseconds. */
  cooldown: number;
  /** Timeout of one fetch, in milliseconds. */
  timeout: number;
  /** How long the last good keys serve after the last successful refresh, in milliseconds. */
  gracePeriod: number;
}

/** `loading`: no keys yet; `ready`: fresh keys; `stale`: refreshes fail, grace period running;
 * `expired`: the grace period ran out and the keys were dropped. */
export type KeyStoreState = 'loading' | 'ready' | 'stale' | 'expired';

export type RefreshResult = 'updated' | 'unchanged' | 'failed';

export interface KeyStoreHooks {
  /** Called after every refresh attempt. */
  onRefresh?(result: RefreshResult): void;
  /** Called when a refresh drops key ids that were present before. */
  onKeysRemoved?(kids: readonly string[]): void;
}

type LocalSet = ReturnType<typeof createLocalJWKSet>;

/**
 * The keys of one issuer. Refreshes run on timers and when an unknown `kid` asks for one (at most
 * once per cooldown); {@link resolve} only reads the last good set and never waits on I/O.
 */
export class IssuerKeyStore {
  private local: LocalSet | undefined;
  private serialized = '';
  private kids = new Set<string>();
  private lastSuccess: number | undefined;
  private lastAttempt = Number.NEGATIVE_INFINITY;
  private failures = 0;
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<RefreshResult> | undefined;
  private stopped = false;
  private readonly remote: RemoteJWKSet | undefined;

  constructor(
    readonly issuerName: string,
    private readonly source: KeySource,
    private readonly options: KeyStoreOptions,
    private readonly log: Logger,
    private readonly hooks: KeyStoreHooks = {},
    private readonly now: () => number = Date.now,
  ) {
    if (source.kind === 'uri') {
      this.remote = createRemoteJWKSet(new URL(source.uri), {
        timeoutDuration: options.timeout,
        cooldownDuration: 0,
        cacheMaxAge: Number.POSITIVE_INFINITY,
      });
    }
  }

  /** Loads the keys once and starts the refresh timer. Resolves even when the load fails. */
  async start(): Promise<void> {
    await this.refresh();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  get state(): KeyStoreState {
    if (this.lastSuccess === undefined) return 'loading';
    if (this.local === undefined) return 'expired';
    return this.failures > 0 ? 'stale' : 'ready';
  }

  /** Number of keys in the current set. */
  get keyCount(): number {
    return this.local === undefined ? 0 : this.kids.size;
  }

  /**
   * Whether keys can be used right now. Drops them first when the grace period has run out, so
   * a cached token of this issuer stops being accepted at the same instant a fresh one does.
   */
  get usable(): boolean {
    this.expireIfPastGrace();
    return this.local !== undefined;
  }

  /** Milliseconds since epoch of the last successful refresh. */
  get lastRefreshed(): number | undefined {
    return this.lastSuccess;
  }

  /**
   * A jose key resolver over the current set. An unknown `kid` starts a background refresh
   * (rate-limited by the cooldown) and fails this verification with `key_not_found`.
   */
  readonly resolve = async (header: JWSHeaderParameters, token: FlattenedJWSInput) => {
    this.expireIfPastGrace();
    const local = this.local;
    if (local === undefined) throw new TokengateError('keys_unavailable');

    try {
      return await local(header, token);
    } catch (error) {
      if ((error as { code?: string }).code === 'ERR_JWKS_NO_MATCHING_KEY') this.refreshSoon();
      throw error;
    }
  };

  /** Asks for a refresh unless one ran within the cooldown. */
  refreshSoon(): void {
    if (this.stopped || this.now() - this.lastAttempt < this.options.cooldown) return;
    void this.refresh();
  }

  /** Fetches the keys now; concurrent callers share one fetch. */
  refresh(): Promise<RefreshResult> {
    this.inFlight ??= this.fetchAndApply().finally(() => {
      this.inFlight = undefined;
      this.schedule();
    });
    return this.inFlight;
  }

  private async fetchAndApply(): Promise<RefreshResult> {
    this.lastAttempt = this.now();
    let result: RefreshResult;
    try {
      result = this.apply(await this.fetch());
      this.failures = 0;
      this.lastSuccess = this.now();
    } catch (error) {
      this.failures += 1;
      result = 'failed';
      this.expireIfPastGrace();
      this.log.warn(
        {
          issuer: this.issuerName,
          err: { message: (error as Error).message, code: (error as { code?: string }).code },
          state: this.state,
          lastRefreshed:
            this.lastSuccess === undefined ? null : new Date(this.lastSuccess).toISOString(),
        },
        this.local === undefined
          ? 'jwks refresh failed, no keys loaded'
          : 'jwks refresh failed, serving last good keys',
      );
    }
    this.hooks.onRefresh?.(result);
    return result;
  }

  private async fetch(): Promise<JSONWebKeySet> {
    switch (this.source.kind) {
      case 'static':
        return this.source.jwks;
      case 'file':
        return JSON.parse(await readFile(this.source.path, 'utf8')) as JSONWebKeySet;
      case 'uri': {
        await this.remote!.reload();
        return this.remote!.jwks()!;
      }
    }
  }

  private apply(jwks: JSONWebKeySet): RefreshResult {
    const serialized = JSON.stringify(jwks);
    if (serialized === this.serialized && this.local !== undefined) return 'unchanged';

    const keys = jwks.keys.filter((key) => {
      const reason = unusableKeyReason(key);
      if (reason !== undefined) {
        this.log.warn({ issuer: this.issuerName, kid: key.kid, reason }, 'jwks key ignored');
      }
      return reason === undefined;
    });
    const local = createLocalJWKSet({ ...jwks, keys });
    const kids = new Set(
      keys.map((key) => key.kid).filter((kid): kid is string => kid !== undefined),
    );
    const removed = [...this.kids].filter((kid) => !kids.has(kid));

    this.local = local;
    this.serialized = serialized;
    this.kids = kids;
    if (removed.length > 0) this.hooks.onKeysRemoved?.(removed);
    this.log.info({ issuer: this.issuerName, keys: keys.length }, 'jwks loaded');
    return 'updated';
  }

  private expireIfPastGrace(): void {
    if (this.local === undefined || this.failures === 0 || this.lastSuccess === undefined) return;
    if (this.now() - this.lastSuccess <= this.options.gracePeriod) return;

    this.local = undefined;
    this.serialized = '';
    this.log.error({ issuer: this.issuerName }, 'jwks grace period over, keys dropped');
    this.hooks.onKeysRemoved?.([...this.kids]);
    this.kids = new Set();
  }

  private schedule(): void {
    if (this.stopped || this.source.kind === 'static') return;
    clearTimeout(this.timer);
    // While failing, retry sooner than the normal interval, backing off from one second.
    const delay =
      this.failures === 0
        ? this.options.refreshInterval
        : Math.min(this.options.refreshInterval, 1_000 * 2 ** Math.min(this.failures - 1, 8));
    this.timer = setTimeout(() => void this.refresh(), delay);
    this.timer.unref();
  }
}
