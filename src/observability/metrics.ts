import {
  collectDefaultMetrics,
  Counter,
  Gauge,
  Histogram,
  openMetricsContentType,
  Registry,
  type RegistryContentType,
} from 'prom-client';
import type { DecisionSink } from '../decision/authorizer.js';
import type { Decision, ShadowOutcome } from '../decision/decision.js';
import type { AuthzRequest } from '../decision/request.js';

interface CheckSeries {
  readonly labels: { decision: string; reason: string; issuer: string; policy: string };
  count: number;
}

/** prom-client's state of one histogram series (its `hashMap` values). */
interface HistogramState {
  labels: Record<string, string>;
  bucketValues: Record<number, number>;
  sum: number;
  count: number;
}

/** Observations of one histogram series: a count per bucket (not cumulative), a sum, a count. */
class DurationSeries {
  private readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(private readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length);
  }

  observe(value: number): void {
    if (!Number.isFinite(value)) return; // prom-client would throw; a duration is always finite
    this.sum += value;
    this.count += 1;
    const bounds = this.bounds;
    for (let i = 0; i < bounds.length; i++) {
      if (value <= bounds[i]!) {
        this.counts[i]! += 1;
        return;
      }
    }
  }

  /** Overwrites prom-client's state with these totals, in its layout (keyed by bound). */
  copyInto(state: HistogramState): void {
    state.sum = this.sum;
    state.count = this.count;
    this.bounds.forEach((bound, i) => (state.bucketValues[bound] = this.counts[i]!));
  }
}

function child<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  let value = map.get(key);
  if (value === undefined) {
    value = make();
    map.set(key, value);
  }
  return value;
}

/** Buckets from 50 µs to 1 s, dense below a millisecond where checks live. */
export const CHECK_BUCKETS = [
  0.00005, 0.0001, 0.00025, 0.0005, 0.00075, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
  0.5, 1,
];

export interface MetricsOptions {
  /** Also export Node.js process metrics (`process_*`, `nodejs_*`); on by default. */
  processMetrics?: boolean;
}

/**
 * Every tokengate metric, in its own registry (never prom-client's global one) so tests and
 * workers each read exactly what they counted. Labels come from closed sets only: decisions,
 * reason codes, configured issuer and policy names; never a subject, path or token.
 */
export class Metrics implements DecisionSink {
  readonly registry = new Registry<RegistryContentType>();

  /**
   * Checks counted since the last scrape, by label set: a plain increment on the check path,
   * handed to prom-client when it collects (its `inc` hashes the label object on every call).
   * Keyed by decision, reason, issuer and policy in turn; the sets are closed (decisions, reason
   * codes, configured names), so the maps stay small.
   */
  private readonly uncounted = new Map<
    string,
    Map<string, Map<string, Map<string, CheckSeries>>>
  >();

  /**
   * Check durations by decision, bucketed here and handed to prom-client's histogram when it
   * collects: its `observe` validates and hashes the label object on every call, which cost a
   * cached check more than the rest of its metrics together. The test of this class holds the
   * exposition to what prom-client's own `observe` gives for the same durations.
   */
  private readonly durations = {
    allow: new DurationSeries(CHECK_BUCKETS),
    deny: new DurationSeries(CHECK_BUCKETS),
  };

  private readonly checks = new Counter({
    name: 'tokengate_checks_total',
    help: 'Checks answered, by decision, reason code, issuer name and policy name.',
    labelNames: ['decision', 'reason', 'issuer', 'policy'] as const,
    registers: [this.registry],
    collect: () => this.countChecks(),
  });

  private readonly duration = new Histogram({
    name: 'tokengate_check_duration_seconds',
    help: 'Time from receiving a check to its decision.',
    labelNames: ['decision'] as const,
    buckets: CHECK_BUCKETS,
    registers: [this.registry],
    collect: () => this.reportDurations(),
  });

  /** Checks in flight, a plain number on the check path; the gauge reads it when collected. */
  private inflightChecks = 0;

  private readonly inflight: Gauge = new Gauge({
    name: 'tokengate_grpc_inflight_checks',
    help: 'Checks received and not yet answered.',
    registers: [this.registry],
    collect: () => this.inflight.set(this.inflightChecks),
  });

  private readonly jwksRefreshes = new Counter({
    name: 'tokengate_jwks_refreshes_total',
    help: 'JWKS refresh attempts by issuer name and result (updated, unchanged, failed).',
    labelNames: ['issuer', 'result'] as const,
    registers: [this.registry],
  });

  private readonly reloads = new Counter({
    name: 'tokengate_config_reloads_total',
    help: 'Config reload attempts by result (success, failure).',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  private readonly introspections = new Counter({
    name: 'tokengate_introspection_requests_total',
    help: 'Reserved: RFC 7662 introspection calls by issuer name and result; tokengate does not introspect yet, so no series exist.',
    labelNames: ['issuer', 'result'] as const,
    registers: [this.registry],
  });

  private readonly shadows = new Counter({
    name: 'tokengate_shadow_decisions_total',
    help: 'Decisions of rules and policies in shadow mode (logged, not enforced), by decision, reason code and policy name.',
    labelNames: ['decision', 'reason', 'policy'] as const,
    registers: [this.registry],
  });

  private readonly configInfo = new Gauge({
    name: 'tokengate_config_info',
    help: 'The loaded config, by the short hash of its text; always 1.',
    labelNames: ['hash'] as const,
    // Every worker loads the same file: summing the 1s across workers would mislead.
    aggregator: 'first',
    registers: [this.registry],
  });

  constructor(options: MetricsOptions = {}) {
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  record(_request: AuthzRequest, decision: Decision, seconds: number): void {
    this.seriesOf(decision).count += 1;
    this.durations[decision.kind].observe(seconds);
    if (decision.shadow) this.shadowDecided(decision.shadow);
  }

  /**
   * The check counter's series for a decision, found through one map per label: the values are
   * constants and configured names, whose hashes V8 keeps, so no key string is built per check.
   */
  private seriesOf(decision: Decision): CheckSeries {
    const issuer = decision.caller?.issuer ?? '';
    const policy = decision.origin?.policy ?? '';
    return (
      this.uncounted.get(decision.kind)?.get(decision.reason)?.get(issuer)?.get(policy) ??
      this.addSeries(decision.kind, decision.reason, issuer, policy)
    );
  }

  /** A label set's first check: makes the maps on its way and its series. */
  private addSeries(decision: string, reason: string, issuer: string, policy: string): CheckSeries {
    const byReason = child(this.uncounted, decision, () => new Map());
    const byIssuer = child(byReason, reason, () => new Map());
    const byPolicy = child(byIssuer, issuer, () => new Map());
    const series = { labels: { decision, reason, issuer, policy }, count: 0 };
    byPolicy.set(policy, series);
    return series;
  }

  private countChecks(): void {
    for (const byReason of this.uncounted.values()) {
      for (const byIssuer of byReason.values()) {
        for (const byPolicy of byIssuer.values()) {
          for (const series of byPolicy.values()) {
            if (series.count === 0) continue;
            this.checks.inc(series.labels, series.count);
            series.count = 0;
          }
        }
      }
    }
  }

  /** Runs when prom-client collects: its series get the totals counted so far. */
  private reportDurations(): void {
    const internal = this.duration as unknown as { hashMap: Record<string, HistogramState> };
    for (const decision of ['allow', 'deny'] as const) {
      const series = this.durations[decision];
      if (series.count === 0) continue;
      const find = () =>
        Object.values(internal.hashMap).find((state) => state.labels.decision === decision);
      if (find() === undefined) this.duration.zero({ decision });
      series.copyInto(find()!);
    }
  }

  checkStarted(): void {
    this.inflightChecks += 1;
  }

  checkFinished(): void {
    this.inflightChecks -= 1;
  }

  jwksRefreshed(issuer: string, result: string): void {
    this.jwksRefreshes.inc({ issuer, result });
  }

  /** For a future introspection client: one call to an issuer's endpoint and how it ended. */
  introspected(issuer: string, result: 'active' | 'inactive' | 'failed'): void {
    this.introspections.inc({ issuer, result });
  }

  /** One decision a shadow-mode rule or policy would have made. */
  shadowDecided(shadow: ShadowOutcome): void {
    this.shadows.inc({ decision: shadow.kind, reason: shadow.reason, policy: shadow.policy ?? '' });
  }

  configReloaded(result: 'success' | 'failure'): void {
    this.reloads.inc({ result });
  }

  configLoaded(hash: string): void {
    this.configInfo.reset();
    this.configInfo.set({ hash }, 1);
  }

  /**
   * A gauge whose value is read when Prometheus scrapes, for state other parts own (cache size,
   * key counts, mirror staleness). `read` returns one value per label set.
   */
  scrapeGauge<L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[],
    read: () => Iterable<[labels: Partial<Record<L, string>>, value: number]>,
  ): void {
    new Gauge({
      name,
      help,
      labelNames,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [labels, value] of read()) this.set(labels, value);
      },
    });
  }

  /**
   * A counter whose total is read when Prometheus scrapes, from a running count another part
   * keeps.
   */
  scrapeCounter(name: string, help: string, read: () => number): void {
    let reported = 0;
    new Counter({
      name,
      help,
      registers: [this.registry],
      collect() {
        const total = read();
        if (total > reported) this.inc(total - reported);
        reported = total;
      },
    });
  }

  /** The exposition for an `Accept` header: OpenMetrics when asked for, else the text format. */
  async exposition(accept: string | undefined): Promise<{ contentType: string; body: string }> {
    const open = accept?.includes('application/openmetrics-text') ?? false;
    this.registry.setContentType(open ? openMetricsContentType : Registry.PROMETHEUS_CONTENT_TYPE);
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
