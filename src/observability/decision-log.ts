import type { Logger } from 'pino';
import type { Decision } from '../decision/decision.js';
import type { DecisionSink } from '../decision/authorizer.js';
import type { AuthzRequest } from '../decision/request.js';

/**
 * Writes one info line per decision: who asked for what and how it ended. It names a token only
 * by its fingerprint and carries no claim but the subject, client id and `jti`.
 */
export class DecisionLog implements DecisionSink {
  constructor(private readonly log: Logger) {}

  record(request: AuthzRequest, decision: Decision, seconds: number): void {
    if (!this.log.isLevelEnabled('info')) return;
    this.log.info(
      {
        requestId: request.id,
        method: request.method,
        host: request.host,
        path: request.path,
        source: request.source.address,
        issuer: decision.issuer,
        subject: decision.subject,
        clientId: decision.clientId,
        jti: decision.jti,
        fingerprint: decision.fingerprint,
        policy: decision.policy,
        rule: decision.rule,
        decision: decision.kind,
        reason: decision.reason,
        status: decision.kind === 'deny' ? decision.status : 200,
        latencyMs: Math.round(seconds * 1e6) / 1e3,
      },
      'decision',
    );
  }
}
