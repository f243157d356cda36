import { symbols, type Logger } from 'pino';
import type { Caller, Decision, DecisionOrigin, ShadowOutcome } from '../decision/decision.js';
import type { DecisionSink } from '../decision/authorizer.js';
import type { AuthzRequest } from '../decision/request.js';
import { traceIdOf } from './traceparent.js';

export interface DecisionLogOptions {
  /** Share of allows logged, 0 to 1; denies are always logged. Default 1. */
  allowSampleRate?: number;
  /** Source of randomness for sampling, in [0, 1); `Math.random` by default. */
  random?: () => number;
}

/**
 * What pino writes to: the service's SonicBoom in buffer mode (see `byteDestination`), a
 * pino-roll stream, a test's Writable. Each takes bytes; a SonicBoom in its default mode would
 * decode them back to a string, which is correct but slower.
 */
interface LineStream {
  write(chunk: Buffer): unknown;
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
  private lastPrefix = '';
  private readonly queue: Queued[] = [];
  private flushScheduled = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly origins = new WeakMap<DecisionOrigin, { text: string; ascii: boolean }>();
  /** Whether every line of the batch being built is plain ASCII so far. */
  private ascii = true;
  private readonly prefixAscii: boolean;

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
    this.prefixAscii = !NOT_ASCII.test(this.head + this.bindings);
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
    this.ascii = this.prefixAscii;
    let lines = '';
    for (const entry of this.queue) lines += this.line(entry);
    this.queue.length = 0;
    // Plain ASCII is its own UTF-8, and copying it byte for byte is several times faster.
    this.stream.write(Buffer.from(lines, this.ascii ? 'latin1' : 'utf8'));
  }

  private line({ request, decision, seconds, at }: Queued): string {
    // The decision id (ULID alphabet), trace id (checked hex), decision and reason (closed sets)
    // and numbers need no escaping; every other value does. Each value sits between literals
    // that carry its quotes, so a line is as few pieces as it can be: flattening the batch's
    // pieces into one string for the write cost as much as making them.
    const traceId = traceIdOf(request.headers.traceparent);
    const shadow = decision.shadow === undefined ? '' : this.shadowField(decision.shadow);
    const status = decision.kind === 'deny' ? decision.status : 200;
    return (
      this.prefix(at) +
      (decision.id === undefined ? '' : ',"decisionId":"' + decision.id + '"') +
      ',"requestId":"' +
      this.escaped(request.id) +
      '","source":"' +
      this.escaped(request.source.address) +
      '","method":"' +
      this.escaped(request.method) +
      '","host":"' +
      this.escaped(request.host) +
      '","path":"' +
      this.escaped(request.path) +
      '"' +
      (traceId === undefined ? '' : ',"traceId":"' + traceId + '"') +
      this.callerFields(decision.caller) +
      this.originFields(decision.origin) +
      shadow +
      ',"decision":"' +
      decision.kind +
      '","reason":"' +
      decision.reason +
      '","status":' +
      status +
      ',"latencyMs":' +
      Math.round(seconds * 1e6) / 1e3 +
      ',"msg":"decision"}\n'
    );
  }

  /**
   * The policy and rule, escaped once per compiled rule (whose origin object every verdict
   * shares), with whether they are plain ASCII.
   */
  private originFields(origin: DecisionOrigin | undefined): string {
    if (origin === undefined) return '';
    let fields = this.origins.get(origin);
    if (fields === undefined) {
      const text = field('policy', origin.policy) + field('rule', origin.rule);
      fields = { text, ascii: !NOT_ASCII.test(text) };
      this.origins.set(origin, fields);
    }
    if (!fields.ascii) this.ascii = false;
    return fields.text;
  }

  /**
   * The caller's part of a line, escaped for each line. Remembering it per verified token would
   * save the escaping on cache hits, but would cost some 230 bytes per cached token (the string
   * and a weak map's entry; about 23 MB with 100,000 of them), for every token whether it comes
   * back or not.
   */
  private callerFields(caller: Caller | undefined): string {
    if (caller === undefined) return '';
    return (
      (caller.issuer === undefined ? '' : ',"issuer":"' + this.escaped(caller.issuer) + '"') +
      (caller.subject === undefined ? '' : ',"subject":"' + this.escaped(caller.subject) + '"') +
      (caller.clientId === undefined ? '' : ',"clientId":"' + this.escaped(caller.clientId) + '"') +
      (caller.fingerprint === undefined
        ? ''
        : ',"fingerprint":"' + this.escaped(caller.fingerprint) + '"') +
      (caller.jti === undefined ? '' : ',"jti":"' + this.escaped(caller.jti) + '"')
    );
  }

  private shadowField(shadow: ShadowOutcome): string {
    const text = ',"shadow":' + quote(shadow);
    if (NOT_ASCII.test(text)) this.ascii = false;
    return text;
  }

  /** {@link escaped}, noting a value that is not plain ASCII for the batch's encoding. */
  private escaped(value: string): string {
    if (!NOT_PLAIN.test(value)) return value;
    const text = escaped(value);
    if (NOT_ASCII.test(text)) this.ascii = false;
    return text;
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

  /** The line's start up to its own fields: level, time and the logger's bindings. */
  private prefix(now: number): string {
    if (now !== this.lastMs) {
      this.lastMs = now;
      this.lastPrefix = this.head + new Date(now).toISOString() + this.bindings;
    }
    return this.lastPrefix;
  }

  private sampled(): boolean {
    if (this.allowSampleRate >= 1) return true;
    if (this.allowSampleRate <= 0) return false;
    return this.random() < this.allowSampleRate;
  }
}

function field(name: string, value: string | undefined): string {
  return value === undefined ? '' : `,"${name}":"${escaped(value)}"`;
}

/**
 * Anything but printable ASCII other than the quote and the backslash: values with none of it,
 * which is nearly all of them, go into the line as they are. The test costs about a third of
 * what JSON.stringify's copy of the value does.
 */
const NOT_PLAIN = /[^\x20\x21\x23-\x5b\x5d-\x7e]/;
const NOT_ASCII = /[^\x00-\x7f]/;

/** `value` escaped for a JSON string, without the quotes: exactly what JSON.stringify writes. */
export function escaped(value: string): string {
  return NOT_PLAIN.test(value) ? quote(value).slice(1, -1) : value;
}
