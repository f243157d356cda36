import { LRUCache } from 'lru-cache';
import type { VerifiedToken } from './verified-token.js';

/**
 * Verified tokens by digest, bounded by count, each entry living no longer than its token's
 * `exp` (plus the issuer's skew). Time claims are re-checked by the caller on every hit.
 */
export class TokenCache {
  private readonly lru: LRUCache<string, VerifiedToken> | undefined;
  hits = 0;
  misses = 0;

  /** @param maxEntries most entries kept; 0 disables the cache. */
  constructor(maxEntries: number) {
    this.lru = maxEntries > 0 ? new LRUCache({ max: maxEntries, ttlAutopurge: false }) : undefined;
  }

  get(digest: string): VerifiedToken | undefined {
    const entry = this.lru?.get(digest);
    if (entry === undefined) this.misses += 1;
    else this.hits += 1;
    return entry;
  }

  /** @param ttl milliseconds the entry may live; entries with none left are not stored. */
  set(digest: string, token: VerifiedToken, ttl: number): void {
    if (this.lru === undefined || ttl <= 0) return;
    this.lru.set(digest, token, { ttl: Math.ceil(ttl) });
  }

  get size(): number {
    return this.lru?.size ?? 0;
  }

  /** Drops every entry of one issuer, as when a key is removed from its set. */
  dropIssuer(issuerName: string): void {
    if (this.lru === undefined) return;
    for (const [digest, token] of this.lru.entries()) {
      if (token.issuer === issuerName) this.lru.delete(digest);
    }
  }

  clear(): void {
    this.lru?.clear();
  }
}
