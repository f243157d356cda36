import type { Logger } from 'pino';
import { TokengateError } from '../decision/errors.js';
import type { RevocationStage } from '../decision/stages.js';
import type { VerifiedToken } from '../tokens/verified-token.js';
import { entryKey } from './entry.js';
import type { RevocationStore } from './store.js';

export interface GuardOptions {
  /** Mirror age past which the mode applies, in milliseconds. */
  staleAfter: number;
  mode: 'failClosed' | 'failOpen';
  /** Clock skew of the issuer with this `iss`, in milliseconds. */
  clockSkewOf: (iss: string) => number;
  log: Logger;
  now?: () => number;
}

/** Shortest interval between two fail-open warnings, in milliseconds. */
const WARN_EVERY = 10_000;

/**
 * The revocation stage of a check. `assertNotRevoked` reads only the store's local mirror; a
 * mirror older than `staleAfter` denies in `failClosed` mode and allows, counted and warned, in
 * `failOpen`. `claimOneTimeUse` always asks the store and always fails closed.
 */
export class RevocationGuard implements RevocationStage {
  /** Checks allowed while the mirror was stale, in `failOpen` mode. */
  failOpenAllows = 0;
  private lastWarning = -Infinity;
  private readonly now: () => number;

  constructor(
    readonly store: RevocationStore,
    private readonly options: GuardOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  /** Seconds since the mirror was last known current; Infinity before the first load. */
  mirrorAge(): number {
    const synced = this.store.syncedAt();
    return synced === undefined ? Infinity : Math.max(0, (this.now() - synced) / 1000);
  }

  isStale(): boolean {
    return this.mirrorAge() * 1000 > this.options.staleAfter;
  }

  /** A readiness problem only in `failClosed` mode, where a stale mirror denies every token. */
  readinessProblem(): string | undefined {
    if (this.options.mode !== 'failClosed' || !this.isStale()) return undefined;
    return 'revocation mirror is stale';
  }

  assertNotRevoked(token: VerifiedToken): void {
    if (this.store.mirror.findFor(token, this.now()) !== undefined) {
      throw new TokengateError('token_revoked');
    }
    if (!this.isStale()) return;

    if (this.options.mode === 'failClosed') throw new TokengateError('revocation_unavailable');
    this.failOpenAllows += 1;
    const now = this.now();
    if (now - this.lastWarning >= WARN_EVERY) {
      this.lastWarning = now;
      this.options.log.warn(
        { mirrorAgeSeconds: this.mirrorAge(), failOpenAllows: this.failOpenAllows },
        'revocation mirror is stale; allowing (failOpen)',
      );
    }
  }

  async claimOneTimeUse(token: VerifiedToken): Promise<void> {
    const { claims } = token;
    const iss = typeof claims.iss === 'string' ? claims.iss : token.issuer;
    const key =
      typeof claims.jti === 'string'
        ? entryKey('jti', iss, claims.jti)
        : token.signingInputDigest !== undefined
          ? entryKey('digest', iss, token.signingInputDigest)
          : undefined;
    if (key === undefined || typeof claims.exp !== 'number') {
      throw new TokengateError('revocation_unavailable', 'one-time use needs "jti" and "exp"');
    }

    const ttl = claims.exp * 1000 + this.options.clockSkewOf(iss) - this.now();
    let first: boolean;
    try {
      first = await this.store.claim(key, Math.max(ttl, 1_000));
    } catch (error) {
      throw new TokengateError('revocation_unavailable', (error as Error).message);
    }
    if (!first) throw new TokengateError('token_reused');
  }
}
