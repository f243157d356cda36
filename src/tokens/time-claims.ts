import { TokengateError } from '../decision/errors.js';

/** Time rules of one issuer, in milliseconds. */
export interface TimeRules {
  clockSkew: number;
  maxTokenAge?: number;
}

/**
 * Checks `exp` (required), `nbf` and `iat` against `now` (milliseconds) with the issuer's clock
 * skew. Runs before the signature on untrusted claims (a failure only ever denies) and again on
 * every cache hit, so a cached token expires exactly like a fresh one.
 */
export function checkTimeClaims(
  claims: Record<string, unknown>,
  now: number,
  rules: TimeRules,
): void {
  const seconds = now / 1000;
  const skew = rules.clockSkew / 1000;

  const exp = numericDate(claims, 'exp');
  if (exp === undefined)
    throw new TokengateError('claim_missing', 'required claim "exp" is missing');
  if (seconds >= exp + skew) throw new TokengateError('token_expired');

  const nbf = numericDate(claims, 'nbf');
  if (nbf !== undefined && seconds < nbf - skew) throw new TokengateError('token_not_yet_valid');

  const iat = numericDate(claims, 'iat');
  if (iat !== undefined && seconds < iat - skew) throw new TokengateError('token_issued_in_future');

  if (rules.maxTokenAge !== undefined) {
    if (iat === undefined) {
      throw new TokengateError('claim_missing', 'claim "iat" is required by maxTokenAge');
    }
    if (seconds - iat > rules.maxTokenAge / 1000 + skew) throw new TokengateError('token_too_old');
  }
}

function numericDate(claims: Record<string, unknown>, name: string): number | undefined {
  const value = claims[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new TokengateError('claim_invalid', `claim "${name}" is not a NumericDate`);
  }
  return value;
}
