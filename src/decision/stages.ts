import type { HeaderPair, DecisionOrigin, ShadowOutcome } from './decision.js';
import type { ReasonCode } from './reasons.js';
import type { AuthzRequest } from './request.js';
import type { VerifiedToken } from '../tokens/verified-token.js';

/**
 * What the policy stage concluded for one request. A deny carries its reason; an allow may add
 * upstream headers and ask for one-time use of the token.
 */
export interface PolicyVerdict {
  readonly kind: 'allow' | 'deny';
  /** For an allow: `allowed` or `anonymous`; for a deny, why. */
  readonly reason: ReasonCode;
  readonly origin: DecisionOrigin;
  /** Scopes named in an `insufficient_scope` challenge, space-separated. */
  readonly scope?: string;
  /** Upstream headers on top of `headers.fromClaims`. */
  readonly headers?: readonly HeaderPair[];
  /** Header names the rule maps, removed when it sets no value, so they cannot be spoofed. */
  readonly headerNames?: readonly string[];
  /** The rule allows a token only once across all replicas. */
  readonly oneTimeUse?: boolean;
  /** A shadow-mode rule or policy's decision, carried onto the enforced one for logs and metrics. */
  readonly shadow?: ShadowOutcome;
}

/** Decides whether the request may proceed, given the verified token or none. */
export interface PolicyStage {
  evaluate(
    request: AuthzRequest,
    token: VerifiedToken | undefined,
  ): PolicyVerdict | Promise<PolicyVerdict>;
}

/** Revocation and one-time use. Both throw a `TokengateError` to deny. */
export interface RevocationStage {
  /** Throws `token_revoked` for a revoked token, `revocation_unavailable` when state is too stale. */
  assertNotRevoked(token: VerifiedToken): void | Promise<void>;
  /** Claims the token's single use; throws `token_reused` on a second use anywhere. */
  claimOneTimeUse(token: VerifiedToken): Promise<void>;
}

const NO_POLICY: DecisionOrigin = {};
const MISSING: PolicyVerdict = { kind: 'deny', reason: 'token_missing', origin: NO_POLICY };
const ALLOWED: PolicyVerdict = { kind: 'allow', reason: 'allowed', origin: NO_POLICY };

/** Without configured policies: every request needs a valid token, and that is all. */
export const REQUIRE_TOKEN: PolicyStage = {
  evaluate: (_request, token) => (token === undefined ? MISSING : ALLOWED),
};
