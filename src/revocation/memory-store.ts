import { keyOf, type RevocationEntry } from './entry.js';
import { filterEntries, RevocationSet, type ListFilter } from './revocation-set.js';
import { StoreFullError, type RevocationStore } from './store.js';

/**
 * The embedded store for a single replica: the set and the one-time-use claims live in this
 * process only and are gone on restart.
 */
export class MemoryStore implements RevocationStore {
  readonly kind = 'memory';
  readonly mirror = new RevocationSet();
  readonly up = true;
  private readonly entries = new Map<string, RevocationEntry>();
  private readonly claims = new Map<string, number>();
  private sweeper: NodeJS.Timeout | undefined;

  constructor(
    private readonly maxEntries: number,
    private readonly now: () => number = Date.now,
    private readonly sweepIntervalMs = 60_000,
  ) {}

  async start(): Promise<void> {
    this.sweeper = setInterval(() => this.sweep(), this.sweepIntervalMs);
    this.sweeper.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.sweeper);
  }

  syncedAt(): number {
    return this.now();
  }

  async put(entry: RevocationEntry): Promise<void> {
    const key = keyOf(entry);
    if (this.entries.size >= this.maxEntries && !this.entries.has(key)) {
      this.sweep();
      if (this.entries.size >= this.maxEntries) throw new StoreFullError(this.maxEntries);
    }
    this.entries.set(key, entry);
    this.mirror.put(entry);
  }

  async remove(key: string): Promise<boolean> {
    this.mirror.delete(key);
    return this.entries.delete(key);
  }

  async list(filter: ListFilter): Promise<RevocationEntry[]> {
    return filterEntries(this.entries.values(), filter, this.now());
  }

  async claim(key: string, ttlMs: number): Promise<boolean> {
    const now = this.now();
    const until = this.claims.get(key);
    if (until !== undefined && until > now) return false;
    this.claims.set(key, now + ttlMs);
    return true;
  }

  /** Drops expired entries and claims. */
  sweep(): void {
    const now = this.now();
    this.mirror.prune(now);
    for (const [key, entry] of this.entries) if (entry.expiresAt <= now) this.entries.delete(key);
    for (const [key, until] of this.claims) if (until <= now) this.claims.delete(key);
  }
}
