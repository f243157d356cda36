import { symbols, type Logger } from 'pino';
import type { Caller, Decision, DecisionOrigin } from '../decision/decision.js';
import type { DecisionSink } from '../decision/authorizer.js';
import type { AuthzRequest } from '../decision/request.js';
import { traceIdOf } from './traceparent.js';

export interface DecisionLogOptions {
  /** Share of allows logged, 0 to 1; denies are always logged. Default 1. */
  allowSampleRate?: number;
  /** Source of randomness for sampling, in [0, 1); `Math.random` by default. */
  random?: () => number;
}

/** What pino writes to: a SonicBoom, a pino-roll stream, a test's Writable. */
interface LineStream {
  write(line: string): unknown;
}

const quote = JSON.stringify;

/**
 * Decisions are queued and written in batches: 64 lines (about 40 KiB), or 20 ms after the first
 * of a batch, whichever comes first. Each write of the asynchronous stream is a round trip
 * through the libuv thread pool on the process's own core; one write per check cost about as
 * much as building the line. Building a batch's lines in one loop, rather than one between each
 * two checks, also keeps the builder's code and data in the CPU caches.
 */
export const BATCH_LINES = 64;
const FLUSH_DELAY_MS = 20;

/** A decision waiting for its line; the objects are read-only once decided. */
interface Queued {
  readonly request: AuthzRequest;
  readonly decision: Decision;
  readonly seconds: number;
  /** When it was recorded, in epoch milliseconds: the line's `time`. */
  readonly at: number;
}

/**
 * The decision audit log: one info line per decision, who asked for what and how it ended. It
 * names a token only by its fingerprint and carries no claim but the subject, client id and
 * `jti`; request headers are read for `traceparent` only and never written.
 *
 * The line has pino's shape (level, time, the logger's bindings, fields, msg) and goes to the
 * logger's own stream, but is put together here: it is written on every check, and pino's
 * general serializer cost more than the rest of a cached-token check. With a fixed set of keys,
 * none of them a redacted path, pino's redaction could never change it.
 */
export class DecisionLog implements DecisionSink {
  private readonly allowSampleRate: number;
  private readonly random: () => number;
  private readonly stream: LineStream;
  private readonly head: string;
  private readonly bindings: string;
  private lastMs = -1;
  private lastTime = '';
  private readonly queue: Queued[] = [];
  private flushScheduled = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly origins = new WeakMap<DecisionOrigin, string>();

  constructor(
    private readonly log: Logger,
    options: DecisionLogOptions = {},
  ) {
    this.allowSampleRate = options.allowSampleRate ?? 1;
    this.random = options.random ?? Math.random;
    this.stream = (log as unknown as Record<symbol, LineStream>)[symbols.streamSym]!;
    this.head = `{"level":${quote(log.levels.labels[log.levels.values.info!] ?? 'info')},"time":"`;
    const bound = quote(log.bindings()).slice(1, -1);
    this.bindings = bound === '' ? '"' : `",${bound}`;
  }

  record(request: AuthzRequest, decision: Decision, seconds: number): void {
    if (!this.log.isLevelEnabled('info')) return;
    // A shadow outcome is what an operator rolling out a policy watches for: never sample it out.
    if (decision.kind === 'allow' && decision.shadow === undefined && !this.sampled()) return;

    this.queue.push({ request, decision, seconds, at: Date.now() });
    if (this.queue.length >= BATCH_LINES) this.flush();
    else if (!this.flushScheduled) {
      this.flushScheduled = true;
      this.timer = setTimeout(this.flushLater, FLUSH_DELAY_MS);
    }
  }

  /** Writes the lines still queued; the service calls it on shutdown. */
  flush(): void {
    this.flushScheduled = false;
    clearTimeout(this.timer);
    if (this.queue.length === 0) return;
    let lines = '';
    for (const entry of this.queue) lines += this.line(entry);
    this.queue.length = 0;
    this.stream.write(lines);
  }

  private line({ request, decision, seconds, at }: Queued): string {
    // The decision id (ULID alphabet), trace id (checked hex), decision and reason (closed sets)
    // and numbers need no escaping; every other value does.
    const traceId = traceIdOf(request.headers.traceparent);
    const shadow = decision.shadow === undefined ? '' : `,"shadow":${quote(decision.shadow)}`;
    const status = decision.kind === 'deny' ? decision.status : 200;
    return (
      `${this.head}${this.time(at)}${this.bindings}` +
      `${decision.id === undefined ? '' : `,"decisionId":"${decision.id}"`}` +
      `${field('requestId', request.id)}${traceId === undefined ? '' : `,"traceId":"${traceId}"`}` +
      `${field('source', request.source.address)}${field('method', request.method)}` +
      `${field('host', request.host)}${field('path', request.path)}` +
      `${callerFields(decision.caller)}${this.originFields(decision.origin)}${shadow}` +
      `,"decision":"${decision.kind}","reason":"${decision.reason}","status":${status}` +
      `,"latencyMs":${Math.round(seconds * 1e6) / 1e3},"msg":"decision"}\n`
    );
  }

  /** The policy and rule, escaped once per compiled rule (whose origin object every verdict shares). */
  private originFields(origin: DecisionOrigin | undefined): string {
    if (origin === undefined) return '';
    let fields = this.origins.get(origin);
    if (fields === undefined) {
      fields = field('policy', origin.policy) + field('rule', origin.rule);
      this.origins.set(origin, fields);
    }
    return fields;
  }

  private readonly flushLater = () => {
    try {
      this.flush();
    } catch (error) {
      // Building a line from decided values cannot fail; if it ever did, it must not crash.
      this.queue.length = 0;
      this.log.error({ err: { message: (error as Error)?.message } }, 'decision log write failed');
    }
  };

  private time(now: number): string {
    if (now !== this.lastMs) {
      this.lastMs = now;
      this.lastTime = new Date(now).toISOString();
    }
    return this.lastTime;
  }

  private sampled(): boolean {
    if (this.allowSampleRate >= 1) return true;
    if (this.allowSampleRate <= 0) return false;
    return this.random() < this.allowSampleRate;
  }
}

/**
 * The caller's part of a line, escaped for each line. Remembering it per verified token would
 * save the escaping on cache hits, but would cost some 230 bytes per cached token (the string and
 * a weak map's entry; about 23 MB with 100,000 of them), for every token whether it comes back or
 * not.
 */
function callerFields(caller: Caller | undefined): string {
  if (caller === undefined) return '';
  return (
    field('issuer', caller.issuer) +
    field('subject', caller.subject) +
    field('clientId', caller.clientId) +
    field('fingerprint', caller.fingerprint) +
    field('jti', caller.jti)
  );
}

function field(name: string, value: string | undefined): string {
  return value === undefined ? '' : `,"${name}":${quote(value)}`;
}
