import { symbols, type Logger } from 'pino';
import type { Decision } from '../decision/decision.js';
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

/** Longest time a decision line waits in memory before it is written. */
const FLUSH_DELAY_MS = 20;

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
  private pending = '';
  private flushScheduled = false;
  private timer: NodeJS.Timeout | undefined;

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

    let line = this.head + this.time() + this.bindings;
    line += field('decisionId', decision.id);
    line += field('requestId', request.id);
    line += field('traceId', traceIdOf(request.headers.traceparent));
    line += field('source', request.source.address);
    line += field('method', request.method);
    line += field('host', request.host);
    line += field('path', request.path);
    line += field('issuer', decision.issuer);
    line += field('subject', decision.subject);
    line += field('clientId', decision.clientId);
    line += field('fingerprint', decision.fingerprint);
    line += field('jti', decision.jti);
    line += field('policy', decision.policy);
    line += field('rule', decision.rule);
    if (decision.shadow) line += `,"shadow":${quote(decision.shadow)}`;
    line += field('decision', decision.kind);
    line += field('reason', decision.reason);
    line += `,"status":${decision.kind === 'deny' ? decision.status : 200}`;
    line += `,"latencyMs":${Math.round(seconds * 1e6) / 1e3},"msg":"decision"}\n`;
    this.enqueue(line);
  }

  /** Writes the lines still queued; the service calls it on shutdown. */
  flush(): void {
    this.flushScheduled = false;
    clearTimeout(this.timer);
    if (this.pending === '') return;
    const lines = this.pending;
    this.pending = '';
    this.stream.write(lines);
  }

  /**
   * Lines go out in batches: at 32 KiB, or 20 ms after the first line of a batch, whichever
   * comes first. Each write of the asynchronous stream is a round trip through the libuv thread
   * pool on the process's own core; writing once per event-loop turn, as before, cost about as
   * much as building the lines.
   */
  private enqueue(line: string): void {
    this.pending += line;
    if (this.pending.length >= 32_768) this.flush();
    else if (!this.flushScheduled) {
      this.flushScheduled = true;
      this.timer = setTimeout(this.flushLater, FLUSH_DELAY_MS);
    }
  }

  private readonly flushLater = () => this.flush();

  private time(): string {
    const now = Date.now();
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

function field(name: string, value: string | undefined): string {
  return value === undefined ? '' : `,"${name}":${quote(value)}`;
}
