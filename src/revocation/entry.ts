/**
 * What an entry revokes: one token by `jti`, one token by the SHA-256 of its signing input (for
 * tokens without `jti`), or every token of a subject or client issued before a time.
 */
export type EntryKind = 'jti' | 'digest' | 'subject' | 'client';

export const ENTRY_KINDS: readonly EntryKind[] = ['jti', 'digest', 'subject', 'client'];

/** One revocation. Times are milliseconds since the epoch. */
export interface RevocationEntry {
  readonly kind: EntryKind;
  /** The `iss` claim value of the tokens it covers. */
  readonly issuer: string;
  /** The `jti`, signing-input digest (base64url), `sub` or `client_id`. */
  readonly value: string;
  /** For `subject` and `client`: tokens whose `iat` is earlier are revoked. */
  readonly before?: number;
  /** When no token the entry covers can still be valid; the entry disappears then. */
  readonly expiresAt: number;
  readonly revokedAt: number;
  /** Who revoked, as the admin API authenticated them. */
  readonly revokedBy?: string;
  /** Free text from the operator, at most 200 characters. */
  readonly reason?: string;
}

/** The identity of an entry: one entry per kind, issuer and value. */
export function entryKey(kind: EntryKind, issuer: string, value: string): string {
  return `${kind}\u0000${issuer}\u0000${value}`;
}

export function keyOf(entry: RevocationEntry): string {
  return entryKey(entry.kind, entry.issuer, entry.value);
}

/** What the expiry of an entry depends on, for the issuer it names. */
export interface IssuerLifetime {
  /** Clock skew the issuer's tokens are verified with, in milliseconds. */
  readonly clockSkew: number;
  /** Longest time a token of the issuer can stay valid after its `iat`, in milliseconds. */
  readonly maxLifetime: number;
}

export interface EntryRequest {
  kind: EntryKind;
  issuer: string;
  value: string;
  /** `subject`/`client`: revoke tokens issued before this time; defaults to `now`. */
  before?: number;
  /** `jti`/`digest`: the token's `exp` in milliseconds, when the caller knows it. */
  tokenExpiresAt?: number;
  revokedBy?: string;
  reason?: string;
}

/**
 * Builds an entry that expires by itself once nothing it covers can be valid: a token's `exp`
 * plus skew when known, else the issuer's longest lifetime plus skew from the covered time.
 */
export function buildEntry(
  request: EntryRequest,
  lifetime: IssuerLifetime,
  now: number,
): RevocationEntry {
  if (request.value === '' || request.value.length > 1024) {
    throw new RangeError('revocation value must be 1 to 1024 characters');
  }
  const reason = request.reason?.slice(0, 200);
  const common = {
    kind: request.kind,
    issuer: request.issuer,
    value: request.value,
    revokedAt: now,
    ...(request.revokedBy === undefined ? {} : { revokedBy: request.revokedBy }),
    ...(reason === undefined || reason === '' ? {} : { reason }),
  };

  if (request.kind === 'subject' || request.kind === 'client') {
    const before = request.before ?? now;
    return { ...common, before, expiresAt: before + lifetime.maxLifetime + lifetime.clockSkew };
  }

  const latest = now + lifetime.maxLifetime + lifetime.clockSkew;
  const expiresAt =
    request.tokenExpiresAt === undefined
      ? latest
      : Math.min(request.tokenExpiresAt + lifetime.clockSkew, latest);
  return { ...common, expiresAt };
}

/** Reads an entry back from JSON, rejecting anything that is not one. */
export function parseEntry(text: string): RevocationEntry | undefined {
  let value: Record<string, unknown>;
  try {
    value = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (
    typeof value !== 'object' ||
    value === null ||
    !ENTRY_KINDS.includes(value.kind as EntryKind) ||
    typeof value.issuer !== 'string' ||
    typeof value.value !== 'string' ||
    typeof value.expiresAt !== 'number' ||
    typeof value.revokedAt !== 'number' ||
    (value.before !== undefined && typeof value.before !== 'number')
  ) {
    return undefined;
  }
  return value as unknown as RevocationEntry;
}
