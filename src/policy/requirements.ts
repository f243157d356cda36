import type { ClaimCondition, RequirementConfig } from './policy-schema.js';

type Claims = Readonly<Record<string, unknown>>;
type Scalar = string | number | boolean;

/**
 * The token's scopes: the space-separated `scope` claim (RFC 8693, RFC 9068) and the `scp`
 * claim, an array in Azure AD and Okta tokens (a string is split like `scope`).
 */
export function scopesOf(claims: Claims): Set<string> {
  const scopes = new Set<string>();
  for (const value of [claims.scope, claims.scp]) {
    if (typeof value === 'string') {
      for (const scope of value.split(' ')) if (scope !== '') scopes.add(scope);
    } else if (Array.isArray(value)) {
      for (const scope of value) if (typeof scope === 'string') scopes.add(scope);
    }
  }
  return scopes;
}

/**
 * The scopes to name in the `insufficient_scope` challenge when the token's scopes fall short,
 * or `undefined` when they suffice: all of `allOf`, then at least one of `anyOf`.
 */
export function missingScopes(
  required: NonNullable<RequirementConfig['scopes']>,
  claims: Claims,
): string | undefined {
  const held = scopesOf(claims);
  if (required.allOf && !required.allOf.every((scope) => held.has(scope))) {
    return required.allOf.join(' ');
  }
  if (required.anyOf && !required.anyOf.some((scope) => held.has(scope))) {
    return required.anyOf.join(' ');
  }
  return undefined;
}

/** A claim by name; when no claim has that exact name, dots walk into nested objects. */
export function claimAt(claims: Claims, name: string): unknown {
  if (Object.hasOwn(claims, name)) return claims[name];

  let value: unknown = claims;
  for (const part of name.split('.')) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
    if (!Object.hasOwn(value, part)) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

/** Whether the condition holds; an absent claim never satisfies one. Comparison is strict. */
export function conditionHolds(condition: ClaimCondition, claims: Claims): boolean {
  const value = claimAt(claims, condition.claim);
  if (value === undefined) return false;

  if (condition.equals !== undefined) return value === condition.equals;
  if (condition.oneOf !== undefined) return condition.oneOf.includes(value as Scalar);

  const wanted = condition.contains;
  if (Array.isArray(value)) return value.includes(wanted);
  if (typeof value === 'string' && typeof wanted === 'string') {
    return value.split(' ').includes(wanted);
  }
  return false;
}

/** How a condition reads in `explain` output. */
export function describeCondition(condition: ClaimCondition): string {
  if (condition.equals !== undefined) {
    return `${condition.claim} equals ${JSON.stringify(condition.equals)}`;
  }
  if (condition.oneOf !== undefined) {
    return `${condition.claim} is one of ${JSON.stringify(condition.oneOf)}`;
  }
  return `${condition.claim} contains ${JSON.stringify(condition.contains)}`;
}
