import { hash } from 'node:crypto';

/** SHA-256 of the token string, base64url: the cache key, and the only form a token is kept in. */
export function tokenDigest(token: string): string {
  return hash('sha256', token, 'base64url');
}

/** The short name of a token in logs: the first 16 characters (96 bits) of its digest. */
export function fingerprintOf(digest: string): string {
  return digest.slice(0, 16);
}
