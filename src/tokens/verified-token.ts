import type { JWTPayload, ProtectedHeaderParameters } from 'jose';

/** A token whose signature and claims passed every check of its issuer. */
export interface VerifiedToken {
  /** Configured issuer name. */
  readonly issuer: string;
  readonly claims: Readonly<JWTPayload>;
  readonly header: Readonly<ProtectedHeaderParameters>;
  /** Full SHA-256 digest of the token string (base64url). */
  readonly digest: string;
  /** Short fingerprint for logs. */
  readonly fingerprint: string;
  /**
   * SHA-256 (base64url) of the signing input, `header.payload`: names a token without `jti` in
   * revocations whatever its signature bytes. Always set by `TokenVerifier`.
   */
  readonly signingInputDigest?: string;
}
