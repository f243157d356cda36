import type { RevocationEntry } from './entry.js';
import type { ListFilter, RevocationSet } from './revocation-set.js';

/** Thrown when the store cannot answer: Redis down, too slow, or refusing a write. */
export class StoreUnavailableError extends Error {
  readonly code = 'store_unavailable';

  constructor(message: string) {
    super(message);
    this.name = 'StoreUnavailableError';
  }
}

/** Thrown when a revoke would take the set past `revocation.maxEntries`. */
export class StoreFullError extends Error {
  readonly code = 'store_full';

  constructor(max: number) {
    super(`the revocation set holds its maximum of ${max} entries`);
    this.name = 'StoreFullError';
  }
}

/**
 * Where revocations and one-time-use claims live. Reads on the request path go to `mirror`
 * only; writes and claims may do I/O and reject with {@link StoreUnavailableError}.
 */
export interface RevocationStore {
  readonly kind: 'memory' | 'redis';
  /** This replica's copy of the set, read by every check. */
  readonly mirror: RevocationSet;
  /** Loads the set; resolves once it is loaded or `waitMs` has passed. */
  start(waitMs: number): Promise<void>;
  stop(): Promise<void>;
  /** When the mirror was last known to match the store (ms epoch); undefined before that. */
  syncedAt(): number | undefined;
  /** Whether the store's backend answers (always true in memory). */
  readonly up: boolean;
  put(entry: RevocationEntry): Promise<void>;
  /** Removes an entry by key; resolves to whether one was there. */
  remove(key: string): Promise<boolean>;
  /** Live entries matching `filter`, oldest revocation first, read from the store itself. */
  list(filter: ListFilter): Promise<RevocationEntry[]>;
  /** Claims `key` for `ttlMs`; resolves to false when it was claimed before. */
  claim(key: string, ttlMs: number): Promise<boolean>;
}
