import type { JWTPayload } from 'jose';
import type { HeaderPair } from './decision.js';

/** Characters allowed in a header value we set: visible ASCII, space and tab. */
const SAFE_VALUE = /^[\x20-\x7e\t]*$/;

export interface HeaderPlan {
  readonly set: HeaderPair[];
  readonly remove: string[];
}

/**
 * Headers for the upstream: each mapped header is set from its claim, and removed when the
 * claim is absent or unusable, so a client can never supply one of these names itself.
 */
export function planUpstreamHeaders(
  fromClaims: Readonly<Record<string, string>>,
  claims: Readonly<JWTPayload> | undefined,
  removeAuthorization: boolean,
): HeaderPlan {
  const set: HeaderPair[] = [];
  const remove: string[] = [];

  for (const [header, claim] of Object.entries(fromClaims)) {
    const value = claims === undefined ? undefined : headerValue(claims[claim]);
    if (value === undefined) remove.push(header);
    else set.push([header, value]);
  }

  if (removeAuthorization) remove.push('authorization');
  return { set, remove };
}

/** Strings as they are, numbers and booleans as text, arrays of those joined by spaces. */
export function headerValue(claim: unknown): string | undefined {
  let value: string | undefined;
  if (typeof claim === 'string') value = claim;
  else if (typeof claim === 'number' || typeof claim === 'boolean') value = String(claim);
  else if (
    Array.isArray(claim) &&
    claim.every((item) => typeof item === 'string' || typeof item === 'number')
  ) {
    value = claim.join(' ');
  }
  return value !== undefined && SAFE_VALUE.test(value) ? value : undefined;
}
