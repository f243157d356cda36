import { errors, jwtVerify, type JWTVerifyOptions } from 'jose';
import { TokengateError } from '../decision/errors.js';
import type { ReasonCode } from '../decision/reasons.js';
import type { IssuerConfig } from '../config/schema.js';
import { parseCompactJws } from './compact-jws.js';
import { checkTimeClaims, type TimeRules } from './time-claims.js';
import { fingerprintOf, tokenDigest } from './fingerprint.js';
import type { IssuerKeyStore } from './key-store.js';
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
    { issuer: TrustedIssuer; rules: TimeRules; options: JWTVerifyOptions }
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
        const options: JWTVerifyOptions = {
          issuer: config.issuer,
          audience: [...config.audiences],
          algorithms: [...config.algorithms],
          requiredClaims: ['exp'],
          clockTolerance: config.clockSkew / 1000,
          ...(config.maxTokenAge === undefined ? {} : { maxTokenAge: config.maxTokenAge / 1000 }),
          ...(config.requiredType === undefined ? {} : { typ: config.requiredType }),
        };
        return [config.issuer, { issuer, rules, options }];
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

    const { header, payload } = parseCompactJws(token);
    const entry = typeof payload.iss === 'string' ? this.byIssuer.get(payload.iss) : undefined;
    if (entry === undefined) throw new TokengateError('issuer_unknown');
    if (!entry.issuer.config.algorithms.includes(header.alg as never)) {
      throw new TokengateError('algorithm_not_allowed');
    }
    checkTimeClaims(payload, now, entry.rules);

    let result;
    try {
      result = await verifyWithKeys(token, entry.issuer.keys, {
        ...entry.options,
        currentDate: new Date(now),
      });
    } catch (error) {
      throw toTokengateError(error);
    }

    const verified: VerifiedToken = {
      issuer: entry.issuer.config.name,
      claims: result.payload,
      header: result.protectedHeader,
      digest,
      fingerprint: fingerprintOf(digest),
      signingInputDigest: tokenDigest(token.slice(0, token.lastIndexOf('.'))),
    };
    this.cache.set(digest, verified, (payload.exp as number) * 1000 + entry.rules.clockSkew - now);
    return verified;
  }
}

/**
 * jose's verification with the issuer's key resolver. A token without `kid` that matches several
 * keys of the set (as during a rotation) is tried against each of them, the set being small.
 */
async function verifyWithKeys(token: string, keys: IssuerKeyStore, options: JWTVerifyOptions) {
  try {
    return await jwtVerify(token, keys.resolve, options);
  } catch (error) {
    if (!(error instanceof errors.JWKSMultipleMatchingKeys)) throw error;
    for await (const key of error) {
      try {
        return await jwtVerify(token, key, options);
      } catch (inner) {
        if (!(inner instanceof errors.JWSSignatureVerificationFailed)) throw inner;
      }
    }
    throw new errors.JWSSignatureVerificationFailed();
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
