import type { Logger } from 'pino';
import type { LoadedConfig } from '../config/load.js';
import type { IssuerConfig } from '../config/schema.js';
import { Authorizer, type DecisionSink } from '../decision/authorizer.js';
import type { Snapshot } from '../decision/snapshot.js';
import { policyStageFor } from '../policy/policy-stage.js';
import { heapGrowthFromCommandLine, SoftMemoryLimit, softLimitBytes } from './memory-limit.js';
import { ConfigReloader } from './reload.js';
import { GrpcServer } from '../grpc/grpc-server.js';
import { HttpServer } from '../http/http-server.js';
import { openAuditLog, type AuditLog } from '../observability/audit-log.js';
import { Metrics } from '../observability/metrics.js';
import { IssuerKeyStore, type KeySource } from '../tokens/key-store.js';
import { TokenCache } from '../tokens/token-cache.js';
import { TokenVerifier } from '../tokens/verifier.js';
import { metricsExposition, shareMetricsWithPrimary } from './workers.js';
import { AdminServer } from '../admin/admin-server.js';
import { Revocations } from '../revocation/revocations.js';

export interface ServiceOptions {
  log: Logger;
  /** Key sources by issuer name that replace the config's, as the development mode does. */
  keySources?: Readonly<Record<string, KeySource>>;
  /** Longest wait for the first key loads before listening anyway, in milliseconds. */
  startupKeyWait?: number;
  /** Config file to watch and reload live (`serve` sets it; in-memory configs have none). */
  configFile?: string;
  now?: () => number;
}

/**
 * Wires one config into running servers, and owns their lifecycle: start, readiness, drain and
 * stop. Everything per request lives in the {@link Snapshot} it hands to the authorizer.
 */
export class TokengateService {
  readonly grpc: GrpcServer;
  readonly http: HttpServer;
  readonly metrics: Metrics;
  readonly revocations: Revocations;
  private admin: AdminServer | undefined;
  private keyStores: readonly IssuerKeyStore[];
  private reloader: ConfigReloader | undefined;
  private readonly cache: TokenCache;
  private snapshot: Snapshot;
  private draining = false;
  private readonly memoryLimit: SoftMemoryLimit | undefined;

  private constructor(
    private loaded: LoadedConfig,
    private readonly options: ServiceOptions,
    private readonly audit: AuditLog,
  ) {
    const { config } = loaded;
    const log = options.log;
    this.metrics = new Metrics();
    shareMetricsWithPrimary(this.metrics.registry);
    this.cache = new TokenCache(config.tokens.cache.maxEntries);
    this.keyStores = config.issuers.map((issuer) => this.keyStoreFor(issuer));

    const verifier = new TokenVerifier(
      config.issuers.map((issuerConfig, index) => ({
        config: issuerConfig,
        keys: this.keyStores[index]!,
      })),
      this.cache,
      options.now,
    );
    this.revocations = new Revocations(config, log, {
      onChange: () => this.grpc && this.updateReadiness(),
      now: options.now,
    });
    this.revocations.registerMetrics(this.metrics);
    this.snapshot = {
      config,
      hash: loaded.hash,
      verifier,
      policy: policyStageFor(config),
      revocation: this.revocations.guard,
    };

    const limitBytes = heapGrowthFromCommandLine()
      ? undefined
      : softLimitBytes(config.memory.softLimit, config.workers);
    this.memoryLimit =
      limitBytes === undefined
        ? undefined
        : new SoftMemoryLimit({ limitBytes, log: log.child({ component: 'memory' }) });
    this.registerStateMetrics(limitBytes);
    this.metrics.configLoaded(loaded.hash);

    const metricsOn = config.metrics.enabled;
    const sinks: DecisionSink[] = [
      ...(metricsOn ? [this.metrics] : []),
      ...(audit.sink ? [audit.sink] : []),
    ];
    const authorizer = new Authorizer(() => this.snapshot, sinks, log);
    this.grpc = new GrpcServer({
      address: config.grpc.address,
      maxInFlight: config.grpc.maxInFlight,
      authorizer,
      log,
      metrics: metricsOn ? this.metrics : undefined,
    });
    this.http = new HttpServer(config.http.address, log);
    this.http.route('/healthz', () => ({
      status: this.draining ? 503 : 200,
      body: this.draining ? 'draining\n' : 'ok\n',
    }));
    if (metricsOn) {
      this.http.route('/metrics', async (request) => {
        const { contentType, body } = await metricsExposition(
          () => this.metrics.exposition(request.headers.accept),
          request.headers.accept,
        );
        return { status: 200, contentType, body };
      });
    }
    this.http.route('/readyz', () => {
      const problems = this.readinessProblems();
      return {
        status: problems.length === 0 ? 200 : 503,
        contentType: 'application/json',
        body: JSON.stringify({ ready: problems.length === 0, problems }),
      };
    });
  }

  /** Loads keys (waiting at most `startupKeyWait`), then listens on both ports. */
  static async start(loaded: LoadedConfig, options: ServiceOptions): Promise<TokengateService> {
    const audit = await openAuditLog(loaded.config.audit, options.log);
    const service = new TokengateService(loaded, options, audit);
    const loads = Promise.all(service.keyStores.map((store) => store.start()));
    await Promise.race([loads, delay(options.startupKeyWait ?? 5_000)]);
    await service.revocations.start(options.startupKeyWait ?? 5_000);

    await service.grpc.listen();
    await service.http.listen();
    await service.startAdmin();
    service.updateReadiness();
    service.memoryLimit?.start();
    if (options.configFile !== undefined) service.watchConfig(options.configFile);
    options.log.info(
      {
        grpc: service.grpc.address,
        http: service.http.address,
        ...(service.admin ? { admin: service.admin.address } : {}),
        config: loaded.source,
        configHash: loaded.hash,
      },
      'tokengate listening',
    );
    return service;
  }

  get current(): Snapshot {
    return this.snapshot;
  }

  /** Why the service is not ready; empty when it is. */
  readinessProblems(): string[] {
    const problems: string[] = [];
    if (this.draining) problems.push('draining');
    const revocation = this.revocations.guard.readinessProblem();
    if (revocation !== undefined) problems.push(revocation);
    for (const store of this.keyStores) {
      if (store.state === 'loading' || store.state === 'expired') {
        problems.push(`issuer ${store.issuerName}: keys ${store.state}`);
      }
    }
    return problems;
  }

  /**
   * Drains and stops: NOT_SERVING at once, listeners open for `drainDelay` so load balancers
   * notice, then in-flight checks get up to `gracePeriod` to finish.
   */
  async shutdown(): Promise<'graceful' | 'forced'> {
    const { drainDelay, gracePeriod } = this.loaded.config.shutdown;
    this.draining = true;
    this.grpc.setReady(false);
    this.options.log.info({ drainDelay, gracePeriod }, 'draining');
    this.reloader?.stop();

    await delay(drainDelay);
    const outcome = await this.grpc.shutdown(gracePeriod);
    await this.http.close();
    for (const store of this.keyStores) store.stop();
    await this.admin?.shutdown();
    await this.revocations.stop();
    await this.audit.close();
    this.memoryLimit?.stop();
    this.options.log.info({ outcome }, 'stopped');
    return outcome;
  }

  /** Reloads `path` on every change; see {@link ConfigReloader} for what a reload swaps. */
  private watchConfig(path: string): void {
    this.reloader = new ConfigReloader({
      path,
      log: this.options.log,
      metrics: this.metrics,
      cache: this.cache,
      keyWait: this.options.startupKeyWait ?? 5_000,
      now: this.options.now,
      current: () => ({ loaded: this.loaded, snapshot: this.snapshot, keyStores: this.keyStores }),
      createKeyStore: (issuer) => this.keyStoreFor(issuer),
      swap: (next) => {
        this.loaded = next.loaded;
        this.snapshot = next.snapshot;
        this.keyStores = next.keyStores;
        this.updateReadiness();
      },
    });
    this.reloader.start();
  }

  /** The revocation admin API, on its own listener when `admin.address` is set. */
  private async startAdmin(): Promise<void> {
    const { config } = this.loaded;
    if (config.admin.address === undefined) return;
    this.admin = new AdminServer({
      config: config.admin,
      current: () => this.snapshot,
      maxTokenLength: config.tokens.maxLength,
      revocations: this.revocations,
      log: this.options.log,
    });
    await this.admin.listen(config.admin.address);
  }

  private keyStoreFor(issuer: IssuerConfig): IssuerKeyStore {
    const source: KeySource =
      this.options.keySources?.[issuer.name] ??
      (issuer.jwks.uri !== undefined
        ? { kind: 'uri', uri: issuer.jwks.uri }
        : { kind: 'file', path: issuer.jwks.file! });
    return new IssuerKeyStore(
      issuer.name,
      source,
      issuer.jwks,
      this.options.log.child({ component: 'jwks' }),
      {
        onRefresh: (result) => {
          this.metrics.jwksRefreshed(issuer.name, result);
          this.updateReadiness();
        },
        onKeysRemoved: () => this.cache.dropIssuer(issuer.name),
      },
      this.options.now,
    );
  }

  /** Gauges read at scrape time from state the cache and key stores keep. */
  private registerStateMetrics(softLimit: number | undefined): void {
    const { metrics, cache } = this;
    metrics.scrapeGauge(
      'tokengate_memory_soft_limit_bytes',
      'The soft memory limit (resident bytes); absent when off or when node sets --heap-growing-percent.',
      [],
      () => (softLimit === undefined ? [] : [[{}, softLimit]]),
    );
    metrics.scrapeGauge(
      'tokengate_memory_soft_limit_active',
      'Whether the process is over its soft memory limit and V8 collects sooner (1) or not (0).',
      [],
      () => (this.memoryLimit === undefined ? [] : [[{}, this.memoryLimit.bounded ? 1 : 0]]),
    );
    metrics.scrapeGauge(
      'tokengate_token_cache_entries',
      'Verified tokens in the cache.',
      [],
      () => [[{}, cache.size]],
    );
    metrics.scrapeCounter(
      'tokengate_token_cache_hits_total',
      'Token cache lookups that found a verified token.',
      () => cache.hits,
    );
    metrics.scrapeCounter(
      'tokengate_token_cache_misses_total',
      'Token cache lookups that found nothing.',
      () => cache.misses,
    );
    metrics.scrapeGauge(
      'tokengate_jwks_keys',
      'Keys in the current set, by issuer name.',
      ['issuer'],
      () => this.keyStores.map((store) => [{ issuer: store.issuerName }, store.keyCount]),
    );
    metrics.scrapeGauge(
      'tokengate_jwks_last_success_age_seconds',
      'Seconds since the last successful JWKS refresh, by issuer name; absent before the first.',
      ['issuer'],
      () =>
        this.keyStores
          .filter((store) => store.lastRefreshed !== undefined)
          .map((store) => [
            { issuer: store.issuerName },
            ((this.options.now ?? Date.now)() - store.lastRefreshed!) / 1000,
          ]),
    );
    metrics.scrapeGauge(
      'tokengate_ready',
      'Whether this process is ready to serve checks (1) or not (0).',
      [],
      () => [[{}, this.readinessProblems().length === 0 ? 1 : 0]],
    );
  }

  private updateReadiness(): void {
    if (this.grpc.address === '') return;
    this.grpc.setReady(this.readinessProblems().length === 0);
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
