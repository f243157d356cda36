import type { Logger } from 'pino';
import {
  allow,
  callerOf,
  deny,
  type Caller,
  type Decision,
  type DecisionOrigin,
} from './decision.js';
import { TokengateError } from './errors.js';
import type { AuthzRequest } from './request.js';
import type { Snapshot } from './snapshot.js';
import { planUpstreamHeaders } from './upstream-headers.js';
import { newDecisionId } from '../observability/decision-id.js';
import { extractBearer } from '../tokens/extract.js';
import { fingerprintOf, tokenDigest } from '../tokens/fingerprint.js';
import type { VerifiedToken } from '../tokens/verified-token.js';

/** Receives every decision exactly once: the decision log, the metrics. */
export interface DecisionSink {
  record(request: AuthzRequest, decision: Decision, seconds: number): void;
}

/**
 * Runs a check through its stages in order (extract, verify, revocation, policy, one-time use,
 * headers) and returns a {@link Decision}. It never throws: a fault anywhere is an
 * `internal_error` deny, so no fault can ever allow.
 */
export class Authorizer {
  constructor(
    private readonly current: () => Snapshot,
    private readonly sinks: readonly DecisionSink[],
    private readonly log: Logger,
  ) {}

  async check(request: AuthzRequest): Promise<Decision> {
    const started = process.hrtime.bigint();
    const snapshot = this.current();

    let decision: Decision;
    try {
      decision = await this.decide(snapshot, request);
    } catch (error) {
      this.log.error(
        { requestId: request.id, err: { message: (error as Error)?.message } },
        'check failed',
      );
      decision = deny('internal_error', { realm: snapshot.config.realm });
    }

    // The builders make a fresh object per check with both keys already there, so naming it in
    // place is safe and keeps one object shape (a copy would cost more than the sinks reading it).
    const trace = decision as { id: string | undefined; idHeader: boolean };
    trace.id = newDecisionId();
    trace.idHeader = snapshot.config.audit?.decisionIdHeader === true;
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    for (const sink of this.sinks) {
      // A broken log or metric must not turn an answer into a gRPC error (Envoy's failure mode).
      try {
        sink.record(request, decision, seconds);
      } catch (error) {
        this.log.error(
          { requestId: request.id, err: { message: (error as Error)?.message } },
          'decision sink failed',
        );
      }
    }
    return decision;
  }

  private async decide(snapshot: Snapshot, request: AuthzRequest): Promise<Decision> {
    const { config } = snapshot;
    const realm = config.realm;

    let raw: string | undefined;
    try {
      raw = extractBearer(request.headers.authorization, config.tokens.maxLength);
    } catch (error) {
      return denyFor(error, realm);
    }

    let token: VerifiedToken | undefined;
    if (raw !== undefined) {
      const digest = tokenDigest(raw);
      try {
        token = await snapshot.verifier.verify(raw, digest);
      } catch (error) {
        this.logFault(request, error);
        return denyFor(error, realm, {
          issuer: undefined,
          fingerprint: fingerprintOf(digest),
          subject: undefined,
          clientId: undefined,
          jti: undefined,
        });
      }
    }
    const caller = token && callerOf(token.issuer, token.claims, token.fingerprint);

    try {
      if (token !== undefined) await snapshot.revocation?.assertNotRevoked(token);
    } catch (error) {
      this.logFault(request, error);
      return denyFor(error, realm, caller);
    }

    const verdict = await snapshot.policy.evaluate(request, token);
    if (verdict.kind === 'deny') {
      return deny(verdict.reason, {
        realm,
        scope: verdict.scope,
        caller,
        origin: verdict.origin,
        shadow: verdict.shadow,
      });
    }

    if (verdict.oneTimeUse) {
      try {
        if (token === undefined || snapshot.revocation === undefined) {
          throw new TokengateError(
            'internal_error',
            'one-time use needs a token and a revocation store',
          );
        }
        await snapshot.revocation.claimOneTimeUse(token);
      } catch (error) {
        this.logFault(request, error);
        return denyFor(error, realm, caller, verdict.origin);
      }
    }

    const headers = planUpstreamHeaders(
      config.headers.fromClaims,
      token?.claims,
      config.headers.removeAuthorization,
    );
    const ruleNames = new Set(verdict.headers?.map(([name]) => name));
    return allow({
      reason: verdict.reason,
      headersToSet: [
        ...headers.set.filter(([name]) => !ruleNames.has(name)),
        ...(verdict.headers ?? []),
      ],
      headersToRemove: [
        ...headers.remove.filter((name) => !ruleNames.has(name)),
        ...(verdict.headerNames ?? []).filter((name) => !ruleNames.has(name)),
      ],
      caller,
      origin: verdict.origin,
      shadow: verdict.shadow,
    });
  }

  private logFault(request: AuthzRequest, error: unknown): void {
    if (error instanceof TokengateError && error.code !== 'internal_error') return;
    this.log.error(
      { requestId: request.id, err: { message: (error as Error)?.message } },
      'check stage fault',
    );
  }
}

function denyFor(
  error: unknown,
  realm: string,
  caller?: Caller,
  origin?: DecisionOrigin,
): Decision {
  if (!(error instanceof TokengateError)) throw error;
  return deny(error.code, { realm, caller, origin });
}
