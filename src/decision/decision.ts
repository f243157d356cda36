import { REASONS, type ReasonCode } from './reasons.js';

/** What the decision log and the metrics know about the caller; never the token itself. */
export interface Caller {
  /** Configured issuer name (not the URL). */
  issuer?: string;
  subject?: string;
  clientId?: string;
  jti?: string;
  /** Short SHA-256 fingerprint of the token string. */
  fingerprint?: string;
}

/** Which policy and rule produced the decision, for logs and metrics. */
export interface DecisionOrigin {
  policy?: string;
  rule?: string;
}

/**
 * Who asked, what decided, and how the decision is named in the audit log and to Envoy. Every
 * decision has all of these keys, so the sinks and the response encoder read one object shape.
 */
export interface DecisionContext {
  /** Absent when the request had no token. */
  readonly caller: Caller | undefined;
  /** Absent when no policy was reached (a token that failed verification). */
  readonly origin: DecisionOrigin | undefined;
  readonly shadow: ShadowOutcome | undefined;
  /**
   * Unique, time-sortable id, also in `dynamic_metadata` as `decision_id`; the authorizer sets it.
   */
  readonly id: string | undefined;
  /** Also return the id as the `x-tokengate-decision-id` header (`audit.decisionIdHeader`). */
  readonly idHeader: boolean;
}

export type HeaderPair = readonly [name: string, value: string];

/** What a rule or policy in shadow mode would have decided; logged and counted, not enforced. */
export interface ShadowOutcome {
  readonly kind: 'allow' | 'deny';
  readonly reason: ReasonCode;
  readonly policy?: string;
  readonly rule?: string;
}

export interface AllowDecision extends DecisionContext {
  readonly kind: 'allow';
  readonly reason: ReasonCode;
  /** Headers set on the upstream request, overwriting any the client sent. */
  readonly headersToSet: readonly HeaderPair[];
  /** Headers removed from the upstream request. */
  readonly headersToRemove: readonly string[];
}

export interface DenyDecision extends DecisionContext {
  readonly kind: 'deny';
  readonly reason: ReasonCode;
  readonly status: number;
  /** Headers on the response to the client, `www-authenticate` among them. */
  readonly responseHeaders: readonly HeaderPair[];
  readonly body: string;
}

export type Decision = AllowDecision | DenyDecision;

export interface DenyOptions {
  /** Value for the `realm` parameter of the challenge. */
  realm: string;
  /** Space-separated scopes for an `insufficient_scope` challenge. */
  scope?: string;
  caller?: Caller;
  origin?: DecisionOrigin;
  shadow?: ShadowOutcome;
}

/** The one builder of deny decisions: status, challenge and body all follow from the reason. */
export function deny(reason: ReasonCode, options: DenyOptions): DenyDecision {
  const spec = REASONS[reason];
  const error = 'error' in spec ? spec.error : undefined;
  const responseHeaders: HeaderPair[] = [['content-type', 'application/json']];

  if (spec.challenge) {
    responseHeaders.push([
      'www-authenticate',
      challenge(options.realm, error, spec.description, options.scope),
    ]);
  }

  const body = JSON.stringify(
    error === undefined
      ? { error: reason, error_description: spec.description }
      : { error, error_description: spec.description },
  );

  return {
    kind: 'deny',
    reason,
    status: spec.status,
    responseHeaders,
    body,
    caller: options.caller,
    origin: options.origin,
    shadow: options.shadow,
    id: undefined,
    idHeader: false,
  };
}

function challenge(realm: string, error?: string, description?: string, scope?: string): string {
  let value = `Bearer realm="${quote(realm)}"`;
  if (error === undefined) return value;

  value += `, error="${error}", error_description="${quote(description ?? '')}"`;
  if (scope !== undefined) value += `, scope="${quote(scope)}"`;
  return value;
}

/** RFC 7230 quoted-string: escape the two characters that would end or break the string. */
function quote(text: string): string {
  return text.replace(/["\\]/g, '\\$&');
}

export interface AllowOptions {
  reason?: ReasonCode;
  headersToSet?: readonly HeaderPair[];
  headersToRemove?: readonly string[];
  caller?: Caller;
  origin?: DecisionOrigin;
  shadow?: ShadowOutcome;
}

/** The one builder of allow decisions. */
export function allow(options: AllowOptions = {}): AllowDecision {
  return {
    kind: 'allow',
    reason: options.reason ?? 'allowed',
    headersToSet: options.headersToSet ?? [],
    headersToRemove: options.headersToRemove ?? [],
    caller: options.caller,
    origin: options.origin,
    shadow: options.shadow,
    id: undefined,
    idHeader: false,
  };
}

/** The identity fields of a verified token that logs and metrics may carry. */
export function callerOf(
  issuer: string,
  claims: Readonly<Record<string, unknown>>,
  fingerprint: string,
): Caller {
  return {
    issuer,
    fingerprint,
    subject: typeof claims.sub === 'string' ? claims.sub : undefined,
    clientId: typeof claims.client_id === 'string' ? claims.client_id : undefined,
    jti: typeof claims.jti === 'string' ? claims.jti : undefined,
  };
}
