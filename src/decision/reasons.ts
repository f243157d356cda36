/**
 * The one list of reason codes. A code names why a check ended as it did; the same code is the
 * deny response's `error_description` source, the decision log's `reason` field and the metric
 * label, so the list is closed and every entry is stable once released.
 */
export interface ReasonSpec {
  /** HTTP status Envoy returns to the client for a deny. */
  readonly status: 200 | 400 | 401 | 403 | 500 | 503;
  /** RFC 6750 §3.1 error code for the `WWW-Authenticate` challenge; absent where none applies. */
  readonly error?: 'invalid_request' | 'invalid_token' | 'insufficient_scope';
  /** Whether the response carries a `WWW-Authenticate: Bearer` challenge. */
  readonly challenge: boolean;
  /** Fixed, token-free text for `error_description`, the JSON body and the logs. */
  readonly description: string;
}

const unauthenticated = (description: string): ReasonSpec => ({
  status: 401,
  error: 'invalid_token',
  challenge: true,
  description,
});

const forbidden = (description: string): ReasonSpec => ({
  status: 403,
  challenge: false,
  description,
});

export const REASONS = {
  allowed: { status: 200, challenge: false, description: 'token accepted' },
  anonymous: { status: 200, challenge: false, description: 'route allows anonymous access' },

  token_missing: { status: 401, challenge: true, description: 'no bearer token in the request' },
  header_malformed: {
    status: 400,
    error: 'invalid_request',
    challenge: true,
    description: 'malformed authorization header',
  },
  token_too_large: {
    status: 400,
    error: 'invalid_request',
    challenge: true,
    description: 'bearer token exceeds the size limit',
  },

  token_malformed: unauthenticated('token is not a well-formed compact JWS'),
  crit_unsupported: unauthenticated('token has a "crit" header, which is not supported'),
  algorithm_not_allowed: unauthenticated('token algorithm is not allowed for its issuer'),
  issuer_unknown: unauthenticated('token issuer is not trusted'),
  key_not_found: unauthenticated('no key of the issuer matches the token'),
  signature_invalid: unauthenticated('token signature verification failed'),
  type_mismatch: unauthenticated('unexpected "typ" header'),
  claim_missing: unauthenticated('token lacks a required claim'),
  claim_invalid: unauthenticated('token has a claim of the wrong type'),
  audience_mismatch: unauthenticated('token audience is not accepted'),
  token_expired: unauthenticated('token has expired'),
  token_not_yet_valid: unauthenticated('token is not yet valid'),
  token_issued_in_future: unauthenticated('token was issued in the future'),
  token_too_old: unauthenticated('token is older than the maximum token age'),
  token_revoked: unauthenticated('token has been revoked'),
  token_reused: unauthenticated('one-time token has already been used'),

  insufficient_scope: {
    status: 403,
    error: 'insufficient_scope',
    challenge: true,
    description: 'token lacks a required scope',
  },
  issuer_not_allowed: forbidden('token issuer is not allowed on this route'),
  claim_condition_failed: forbidden('a claim condition of the route failed'),
  expression_false: forbidden('the route expression denied the request'),
  expression_error: forbidden('the route expression could not be evaluated'),
  policy_denied: forbidden('the route denies all requests'),
  policy_unknown: forbidden('the route names an unknown policy'),
  no_matching_rule: forbidden('no policy rule matches the request'),

  keys_unavailable: {
    status: 503,
    challenge: false,
    description: 'issuer keys are not available',
  },
  revocation_unavailable: {
    status: 503,
    challenge: false,
    description: 'revocation state is not available',
  },
  internal_error: { status: 500, challenge: false, description: 'internal error' },
} as const satisfies Record<string, ReasonSpec>;

export type ReasonCode = keyof typeof REASONS;

export const REASON_CODES = Object.keys(REASONS) as ReasonCode[];
