import { errors, type JWTPayload, type ProtectedHeaderParameters } from 'jose';
import { TokengateError } from '../decision/errors.js';
import type { ReasonCode } from '../decision/reasons.js';
import type { IssuerConfig } from '../config/schema.js';
import { parseCompactJws } from './compact-jws.js';
import { checkTimeClaims, type TimeRules } from './time-claims.js';
import { fingerprintOf, tokenDigest } from './fingerprint.js';
import type { IssuerKeyStore } from './key-store.js';
import { verifyJwsSignature } from './signature.js';
import type { TokenCache } from './token-cache.js';
import type { VerifiedToken } from './verified-token.js';

/** One trusted issuer as the verifier uses it. */
export interface TrustedIssuer {
  readonly config: IssuerConfig;
  readonly keys: IssuerKeyStore;
}

/**
 * Verifies JWT access tokens against the configured issuers. The issuer is picked by the
 * untrusted `iss`, and the token is then checked only against that issuer's keys and rules.
 */
export class TokenVerifier {
  private readonly byIssuer: ReadonlyMap<
    string,
    { issuer: TrustedIssuer; rules: TimeRules; requiredType: string | undefined }
  >;

  constructor(
    issuers: readonly TrustedIssuer[],
    private readonly cache: TokenCache,
    private readonly now: () => number = Date.now,
  ) {
    this.byIssuer = new Map(
      issuers.map((issuer) => {
        const { config } = issuer;
        const rules: TimeRules = { clockSkew: config.clockSkew, maxTokenAge: config.maxTokenAge };
        const requiredType =
          config.requiredType === undefined ? undefined : mediaType(config.requiredType);
        return [config.issuer, { issuer, rules, requiredType }];
      }),
    );
  }

  /** Resolves to the verified token, or throws a {@link TokengateError} with the reason. */
  async verify(token: string, digest = tokenDigest(token)): Promise<VerifiedToken> {
    const now = this.now();

    const cached = this.cache.get(digest);
    const cachedEntry = cached && this.byIssuer.get(cached.claims.iss!);
    if (cachedEntry !== undefined) {
      if (!cachedEntry.issuer.keys.usable) throw new TokengateError('keys_unavailable');
      checkTimeClaims(cached!.claims, now, cachedEntry.rules);
      return cached!;
    }

    const parts = parseCompactJws(token);
    const { header, payload } = parts;
    const entry = typeof payload.iss === 'string' ? this.byIssuer.get(payload.iss) : undefined;
    if (entry === undefined) throw new TokengateError('issuer_unknown');
    if (!entry.issuer.config.algorithms.includes(header.alg as never)) {
      throw new TokengateError('algorithm_not_allowed');
    }
    checkTimeClaims(payload, now, entry.rules);

    try {
      await verifyJwsSignature(parts, entry.issuer.keys.resolve);
    } catch (error) {
      throw toTokengateError(error);
    }
    checkType(header, entry.requiredType);
    checkAudience(payload, entry.issuer.config.audiences);

    const verified: VerifiedToken = {
      issuer: entry.issuer.config.name,
      claims: payload as JWTPayload,
      header: header as ProtectedHeaderParameters,
      digest,
      fingerprint: fingerprintOf(digest),
      signingInputDigest: tokenDigest(parts.signingInput),
    };
    this.cache.set(digest, verified, (payload.exp as number) * 1000 + entry.rules.clockSkew - now);
    return verified;
  }
}

/**
 * `typ` as a media type, compared case-insensitively with an implied `application/` prefix
 * (RFC 7515 section 4.1.9): `at+jwt` and `application/AT+JWT` are the same type.
 */
function mediaType(value: string): string {
  const lower = value.toLowerCase();
  return lower.includes('/') ? lower : `application/${lower}`;
}

function checkType(header: Record<string, unknown>, required: string | undefined): void {
  if (required === undefined) return;
  if (typeof header.typ !== 'string' || mediaType(header.typ) !== required) {
    throw new TokengateError('type_mismatch');
  }
}

/** `aud` is required and must name one of the issuer's audiences (a string or an array). */
function checkAudience(claims: Record<string, unknown>, audiences: readonly string[]): void {
  const aud = claims.aud;
  if (aud === undefined) throw new TokengateError('claim_missing', 'required claim "aud" is missing');
  const named = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud : [];
  if (!named.some((value) => typeof value === 'string' && audiences.includes(value))) {
    throw new TokengateError('audience_mismatch');
  }
}

const CLAIM_REASONS: Record<string, ReasonCode> = {
  aud: 'audience_mismatch',
  iss: 'issuer_unknown',
  typ: 'type_mismatch',
  nbf: 'token_not_yet_valid',
  iat: 'token_issued_in_future',
};

/** Maps jose's errors onto reason codes; anything unrecognised is an internal error. */
export function toTokengateError(error: unknown): TokengateError {
  if (error instanceof TokengateError) return error;
  if (error instanceof errors.JWTExpired) {
    return new TokengateError(error.claim === 'iat' ? 'token_too_old' : 'token_expired');
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.reason === 'missing')
      return new TokengateError('claim_missing', `required claim "${error.claim}" is missing`);
    if (error.reason === 'invalid')
      return new TokengateError('claim_invalid', `claim "${error.claim}" has the wrong type`);
    return new TokengateError(CLAIM_REASONS[error.claim] ?? 'claim_invalid');
  }
  if (error instanceof errors.JWSSignatureVerificationFailed)
    return new TokengateError('signature_invalid');
  if (error instanceof errors.JWKSMultipleMatchingKeys)
    return new TokengateError('signature_invalid');
  if (error instanceof errors.JOSEAlgNotAllowed) return new TokengateError('algorithm_not_allowed');
  if (error instanceof errors.JWKSNoMatchingKey) return new TokengateError('key_not_found');
  if (error instanceof errors.JOSENotSupported)
    return new TokengateError('algorithm_not_allowed', error.message);
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid) {
    return new TokengateError('token_malformed', error.message);
  }
  const wrapped = new TokengateError('internal_error', (error as Error)?.message ?? String(error));
  wrapped.cause = error;
  return wrapped;
}
