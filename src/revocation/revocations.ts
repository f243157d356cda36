import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import type { Metrics } from '../observability/metrics.js';
import {
  buildEntry,
  entryKey,
  type EntryKind,
  type EntryRequest,
  type IssuerLifetime,
  type RevocationEntry,
} from './entry.js';
import { MemoryStore } from './memory-store.js';
import { RedisStore } from './redis-store.js';
import type { ListFilter } from './revocation-set.js';
import { RevocationGuard } from './revocation-guard.js';
import type { RevocationStore } from './store.js';

/** Thrown for an admin request naming an issuer tokengate does not trust. */
export class UnknownIssuerError extends Error {
  readonly code = 'issuer_unknown';

  constructor(issuer: string) {
    super(`no configured issuer is named or has iss "${issuer}"`);
    this.name = 'UnknownIssuerError';
  }
}

export interface RevocationStatus {
  store: 'memory' | 'redis';
  entries: number;
  up: boolean;
  mirrorAgeSeconds: number;
  stale: boolean;
  mode: 'failClosed' | 'failOpen';
}

interface KnownIssuer extends IssuerLifetime {
  readonly iss: string;
}

/**
 * Revocation as the service holds it: the store chosen by config, the check-path guard, and the
 * operations the admin API offers. Issuers are named by config name or `iss`; entries by `iss`.
 */
export class Revocations {
  readonly store: RevocationStore;
  readonly guard: RevocationGuard;
  private readonly issuers = new Map<string, KnownIssuer>();
  private readonly now: () => number;

  constructor(
    private readonly config: Config,
    log: Logger,
    options: { onChange?: () => void; now?: () => number } = {},
  ) {
    const settings = config.revocation;
    this.now = options.now ?? Date.now;
    for (const issuer of config.issuers) {
      const known: KnownIssuer = {
        iss: issuer.issuer,
        clockSkew: issuer.clockSkew,
        maxLifetime: issuer.maxTokenAge ?? settings.maxTokenLifetime,
      };
      this.issuers.set(issuer.issuer, known);
      this.issuers.set(issuer.name, known);
    }

    this.store =
      settings.store === 'redis'
        ? new RedisStore({
            ...settings.redis!,
            password: readPassword(settings.redis!.passwordFile),
            heartbeatInterval: settings.heartbeatInterval,
            resyncInterval: settings.resyncInterval,
            maxEntries: settings.maxEntries,
            log: log.child({ component: 'revocation' }),
            onChange: options.onChange,
            now: this.now,
          })
        : new MemoryStore(settings.maxEntries, this.now);
    this.guard = new RevocationGuard(this.store, {
      staleAfter: settings.staleAfter,
      mode: settings.mode,
      clockSkewOf: (iss) => this.issuers.get(iss)?.clockSkew ?? 0,
      log: log.child({ component: 'revocation' }),
      now: this.now,
    });
  }

  /** Loads the set, waiting at most `waitMs` for Redis. */
  start(waitMs = 5_000): Promise<void> {
    return this.store.start(waitMs);
  }

  stop(): Promise<void> {
    return this.store.stop();
  }

  /** The `iss` of a configured issuer given by name or `iss`. */
  resolveIssuer(issuer: string): string {
    const known = this.issuers.get(issuer);
    if (known === undefined) throw new UnknownIssuerError(issuer);
    return known.iss;
  }

  async revoke(request: EntryRequest): Promise<RevocationEntry> {
    const known = this.issuers.get(request.issuer);
    if (known === undefined) throw new UnknownIssuerError(request.issuer);
    const entry = buildEntry({ ...request, issuer: known.iss }, known, this.now());
    await this.store.put(entry);
    return entry;
  }

  /** Removes one entry; resolves to whether it existed. */
  unrevoke(kind: EntryKind, issuer: string, value: string): Promise<boolean> {
    return this.store.remove(entryKey(kind, this.resolveIssuer(issuer), value));
  }

  async list(
    filter: ListFilter,
    limit: number,
  ): Promise<{ entries: RevocationEntry[]; total: number }> {
    const issuer = filter.issuer === undefined ? undefined : this.resolveIssuer(filter.issuer);
    const all = await this.store.list({ ...filter, issuer });
    return { entries: all.slice(0, limit), total: all.length };
  }

  status(): RevocationStatus {
    return {
      store: this.store.kind,
      entries: this.store.mirror.size,
      up: this.store.up,
      mirrorAgeSeconds: this.guard.mirrorAge(),
      stale: this.guard.isStale(),
      mode: this.config.revocation.mode,
    };
  }

  /** Registers the revocation gauges and the fail-open counter. */
  registerMetrics(metrics: Metrics): void {
    metrics.scrapeGauge(
      'tokengate_revocation_entries',
      'Revocation entries in the local mirror of this replica.',
      [],
      () => [[{}, this.store.mirror.size]],
    );
    metrics.scrapeGauge(
      'tokengate_revocation_mirror_age_seconds',
      'Seconds since the revocation mirror was last known current; +Inf before the first load.',
      [],
      () => [[{}, this.guard.mirrorAge()]],
    );
    if (this.store.kind === 'redis') {
      metrics.scrapeGauge(
        'tokengate_redis_up',
        'Whether the Redis revocation store answers (1) or not (0).',
        [],
        () => [[{}, this.store.up ? 1 : 0]],
      );
    }
    metrics.scrapeCounter(
      'tokengate_revocation_fail_open_total',
      'Checks allowed although the revocation mirror was stale (failOpen mode).',
      () => this.guard.failOpenAllows,
    );
  }
}

/** Reads `revocation.redis.passwordFile` once at start; a bad path stops the start, named. */
function readPassword(path: string | undefined): string | undefined {
  if (path === undefined) return undefined;
  try {
    return readFileSync(path, 'utf8').replace(/\r?\n$/, '');
  } catch (error) {
    throw new Error(
      `revocation.redis.passwordFile: cannot read ${path}: ${(error as Error).message}`,
    );
  }
}
