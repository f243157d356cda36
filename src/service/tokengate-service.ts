import type { Logger } from 'pino';
import type { LoadedConfig } from '../config/load.js';
import type { IssuerConfig } from '../config/schema.js';
import { Authorizer, type DecisionSink } from '../decision/authorizer.js';
import type { Snapshot } from '../decision/snapshot.js';
import { REQUIRE_TOKEN } from '../decision/stages.js';
import { GrpcServer } from '../grpc/grpc-server.js';
import { HttpServer } from '../http/http-server.js';
import { DecisionLog } from '../observability/decision-log.js';
import { Metrics } from '../observability/metrics.js';
import { IssuerKeyStore, type KeySource } from '../tokens/key-store.js';
import { TokenCache } from '../tokens/token-cache.js';
import { TokenVerifier } from '../tokens/verifier.js';

export interface ServiceOptions {
  log: Logger;
  /** Key sources by issuer name that replace the config's, as the development mode does. */
  keySources?: Readonly<Record<string, KeySource>>;
  /** Longest wait for the first key loads before listening anyway, in milliseconds. */
  startupKeyWait?: number;
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
  private readonly keyStores: IssuerKeyStore[];
  private readonly cache: TokenCache;
  private snapshot: Snapshot;
  private draining = false;

  private constructor(
    private readonly loaded: LoadedConfig,
    private readonly options: ServiceOptions,
  ) {
    const { config } = loaded;
    const log = options.log;
    this.metrics = new Metrics();
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
    this.snapshot = { config, hash: loaded.hash, verifier, policy: REQUIRE_TOKEN };

    this.registerStateMetrics();
    this.metrics.configLoaded(loaded.hash);

    const sinks: DecisionSink[] = [
      this.metrics,
      new DecisionLog(log.child({ component: 'decision' })),
    ];
    const authorizer = new Authorizer(() => this.snapshot, sinks, log);
    this.grpc = new GrpcServer({
      address: config.grpc.address,
      authorizer,
      log,
      metrics: this.metrics,
    });
    this.http = new HttpServer(config.http.address, log);
    this.http.route('/healthz', () => ({
      status: this.draining ? 503 : 200,
      body: this.draining ? 'draining\n' : 'ok\n',
    }));
    this.http.route('/metrics', async (request) => {
      const { contentType, body } = await this.metrics.exposition(request.headers.accept);
      return { status: 200, contentType, body };
    });
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
    const service = new TokengateService(loaded, options);
    const loads = Promise.all(service.keyStores.map((store) => store.start()));
    await Promise.race([loads, delay(options.startupKeyWait ?? 5_000)]);

    await service.grpc.listen();
    await service.http.listen();
    service.updateReadiness();
    options.log.info(
      {
        grpc: service.grpc.address,
        http: service.http.address,
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

    await delay(drainDelay);
    const outcome = await this.grpc.shutdown(gracePeriod);
    await this.http.close();
    for (const store of this.keyStores) store.stop();
    this.options.log.info({ outcome }, 'stopped');
    return outcome;
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
  private registerStateMetrics(): void {
    const { metrics, cache } = this;
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
