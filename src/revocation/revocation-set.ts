import type { JWTPayload } from 'jose';
import type { EntryKind, RevocationEntry } from './entry.js';

/** The claims and digest of a verified token that revocation entries can name. */
export interface RevocableToken {
  readonly claims: Readonly<JWTPayload>;
  /** SHA-256 (base64url) of the token's signing input, `header.payload`. */
  readonly signingInputDigest?: string;
}

export interface ListFilter {
  issuer?: string;
  kind?: EntryKind;
}

/** A subject or client cut-off: tokens issued before `before` are revoked until `expiresAt`. */
interface Cut {
  readonly before: number;
  readonly expiresAt: number;
}

/** The entries of one issuer: token entries map to their expiry, cut-offs to a {@link Cut}. */
interface IssuerIndex {
  readonly jti: Map<string, number>;
  readonly digest: Map<string, number>;
  readonly subject: Map<string, Cut>;
  readonly client: Map<string, Cut>;
}

const newIndex = (): IssuerIndex => ({
  jti: new Map(),
  digest: new Map(),
  subject: new Map(),
  client: new Map(),
});

/** Splits an entry key (`kind NUL issuer NUL value`) back into its parts. */
function splitKey(key: string): [EntryKind, string, string] | undefined {
  const first = key.indexOf('\u0000');
  const second = key.indexOf('\u0000', first + 1);
  if (first <= 0 || second === -1) return undefined;
  return [key.slice(0, first) as EntryKind, key.slice(first + 1, second), key.slice(second + 1)];
}

/**
 * The revocation entries one replica checks against, held compactly (per issuer and kind, the
 * value and its times only) so that 100,000 entries cost a few megabytes, with constant-time
 * lookups on the request path. Expired entries never match and are dropped by {@link prune}.
 */
export class RevocationSet {
  private byIssuer = new Map<string, IssuerIndex>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  put(entry: Pick<RevocationEntry, 'kind' | 'issuer' | 'value' | 'before' | 'expiresAt'>): void {
    let index = this.byIssuer.get(entry.issuer);
    if (index === undefined) {
      index = newIndex();
      this.byIssuer.set(entry.issuer, index);
    }
    const map = index[entry.kind] as Map<string, number | Cut>;
    if (!map.has(entry.value)) this.count += 1;
    map.set(
      entry.value,
      entry.kind === 'jti' || entry.kind === 'digest'
        ? entry.expiresAt
        : { before: entry.before ?? entry.expiresAt, expiresAt: entry.expiresAt },
    );
  }

  /** Removes the entry with this key (see `entryKey`); returns whether it was there. */
  delete(key: string): boolean {
    const parts = splitKey(key);
    const map = parts && this.byIssuer.get(parts[1])?.[parts[0]];
    if (map === undefined || !map.delete(parts![2])) return false;
    this.count -= 1;
    return true;
  }

  /** Replaces every entry at once with those of `next` (which must not be used after). */
  replaceWith(next: RevocationSet): void {
    this.byIssuer = next.byIssuer;
    this.count = next.count;
  }

  /** The kind of the live entry that revokes `token`, if any. */
  findFor(token: RevocableToken, now: number): EntryKind | undefined {
    const { claims } = token;
    const index = typeof claims.iss === 'string' ? this.byIssuer.get(claims.iss) : undefined;
    if (index === undefined) return undefined;

    const live = (map: Map<string, number>, value: unknown) =>
      typeof value === 'string' && (map.get(value) ?? -Infinity) > now;
    if (live(index.jti, claims.jti)) return 'jti';
    if (live(index.digest, token.signingInputDigest)) return 'digest';

    // A token without `iat` cannot show it was issued after the cut-off.
    const iat = typeof claims.iat === 'number' ? claims.iat * 1000 : -Infinity;
    const cut = (map: Map<string, Cut>, value: unknown) => {
      const found = typeof value === 'string' ? map.get(value) : undefined;
      return found !== undefined && found.expiresAt > now && iat < found.before;
    };
    if (cut(index.subject, claims.sub)) return 'subject';
    if (cut(index.client, claims.client_id)) return 'client';
    return undefined;
  }

  /** Drops entries past their expiry; returns how many went. */
  prune(now: number): number {
    let removed = 0;
    for (const index of this.byIssuer.values()) {
      for (const map of [index.jti, index.digest] as const) {
        for (const [value, expiresAt] of map) {
          if (expiresAt <= now && map.delete(value)) removed += 1;
        }
      }
      for (const map of [index.subject, index.client] as const) {
        for (const [value, cut] of map) {
          if (cut.expiresAt <= now && map.delete(value)) removed += 1;
        }
      }
    }
    this.count -= removed;
    return removed;
  }
}

/** Live entries of `entries` matching `filter`, oldest revocation first. */
export function filterEntries(
  entries: Iterable<RevocationEntry>,
  filter: ListFilter,
  now: number,
): RevocationEntry[] {
  const found: RevocationEntry[] = [];
  for (const entry of entries) {
    if (entry.expiresAt <= now) continue;
    if (filter.issuer !== undefined && entry.issuer !== filter.issuer) continue;
    if (filter.kind !== undefined && entry.kind !== filter.kind) continue;
    found.push(entry);
  }
  return found.sort((a, b) => a.revokedAt - b.revokedAt);
}
