import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import { keyOf, parseEntry, type RevocationEntry } from './entry.js';
import { filterEntries, RevocationSet, type ListFilter } from './revocation-set.js';
import { DELETE_SCRIPT, PUT_SCRIPT, type Scripts } from './redis-scripts.js';
import { StoreFullError, StoreUnavailableError, type RevocationStore } from './store.js';

export interface RedisStoreOptions {
  url: string;
  /** Password read from `revocation.redis.passwordFile`; overrides one in `url`. */
  password?: string;
  keyPrefix: string;
  /** Longest wait for one command, in milliseconds. */
  commandTimeout: number;
  /** How often the set's version is compared with the mirror's, in milliseconds. */
  heartbeatInterval: number;
  /** How often the whole set is re-read, in milliseconds. */
  resyncInterval: number;
  maxEntries: number;
  log: Logger;
  /** Called after every heartbeat and connection change, so readiness can follow. */
  onChange?: () => void;
  now?: () => number;
}

type Change =
  { v: number; op: 'put'; entry: RevocationEntry } | { v: number; op: 'del'; key: string };

/**
 * Revocations shared by every replica through Redis. Each replica keeps the whole set in a local
 * {@link RevocationSet}: loaded at start, updated from a pub/sub channel, checked against the
 * set's version every heartbeat and re-read in full on a gap, on reconnect and periodically.
 * Checks read only the mirror; one-time-use claims are `SET NX PX` in Redis.
 */
export class RedisStore implements RevocationStore {
  readonly kind = 'redis';
  readonly mirror = new RevocationSet();
  private readonly client: Redis;
  private readonly subscriber: Redis;
  private readonly keys: { entries: string; expiry: string; version: string; claims: string };
  private readonly channel: string;
  private readonly now: () => number;
  private version = -1;
  private mismatch: number | undefined;
  private synced: number | undefined;
  private resyncing: Promise<void> | undefined;
  private buffered: Change[] | undefined;
  private timers: NodeJS.Timeout[] = [];
  private wasUp = false;
  private stopped = false;
  private firstSync: (() => void) | undefined;

  constructor(private readonly options: RedisStoreOptions) {
    const prefix = options.keyPrefix;
    this.keys = {
      entries: `${prefix}revocations`,
      expiry: `${prefix}revocations:expiry`,
      version: `${prefix}revocations:version`,
      claims: `${prefix}once:`,
    };
    this.channel = `${prefix}revocations:changes`;
    this.now = options.now ?? Date.now;

    const common: RedisOptions = {
      connectTimeout: 2_000,
      retryStrategy: (attempt) => Math.min(100 * 2 ** Math.min(attempt, 5), 2_000),
      lazyConnect: true,
      ...(options.password === undefined ? {} : { password: options.password }),
    };
    this.client = new Redis(options.url, {
      ...common,
      // Fail at once while disconnected rather than queueing behind a reconnect.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: options.commandTimeout,
    });
    this.subscriber = new Redis(options.url, { ...common, autoResubscribe: true });
    this.client.defineCommand('tokengatePut', { numberOfKeys: 3, lua: PUT_SCRIPT });
    this.client.defineCommand('tokengateDelete', { numberOfKeys: 3, lua: DELETE_SCRIPT });

    this.client.on('error', () => this.noteState());
    this.client.on('close', () => this.noteState());
    this.client.on('ready', () => {
      this.noteState();
      void this.resync();
    });
    this.subscriber.on('error', () => undefined);
    this.subscriber.on('message', (_channel: string, message: string) => this.onMessage(message));
  }

  get up(): boolean {
    return this.client.status === 'ready';
  }

  syncedAt(): number | undefined {
    return this.synced;
  }

  async start(waitMs: number): Promise<void> {
    const synced = new Promise<void>((resolve) => (this.firstSync = resolve));
    this.client.connect().catch(() => undefined);
    this.subscriber.connect().catch(() => undefined);
    const subscribed = this.subscriber.subscribe(this.channel).catch(() => undefined);
    const loaded = Promise.all([synced, subscribed]);

    this.timers.push(
      setInterval(() => void this.heartbeat(), this.options.heartbeatInterval),
      setInterval(() => void this.resync(), this.options.resyncInterval),
      setInterval(() => this.mirror.prune(this.now()), 60_000),
    );
    for (const timer of this.timers) timer.unref();

    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      loaded,
      new Promise<void>((resolve) => (timer = setTimeout(resolve, waitMs))),
    ]);
    clearTimeout(timer);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearInterval(timer);
    this.client.disconnect();
    this.subscriber.disconnect();
  }

  async put(entry: RevocationEntry): Promise<void> {
    const key = keyOf(entry);
    const result = await this.command(() =>
      (this.client as unknown as Scripts).tokengatePut(
        this.keys.entries,
        this.keys.expiry,
        this.keys.version,
        key,
        JSON.stringify(entry),
        entry.expiresAt,
        this.channel,
        this.options.maxEntries,
        this.now(),
      ),
    );
    if (result === -1) throw new StoreFullError(this.options.maxEntries);
    // Read-your-writes on this replica, unless the change message already came (and maybe a
    // later one undid it).
    if (this.version < result) this.mirror.put(entry);
  }

  async remove(key: string): Promise<boolean> {
    const result = await this.command(() =>
      (this.client as unknown as Scripts).tokengateDelete(
        this.keys.entries,
        this.keys.expiry,
        this.keys.version,
        key,
        this.channel,
      ),
    );
    if (result === 0) return false;
    if (this.version < result) this.mirror.delete(key);
    return true;
  }

  async claim(key: string, ttlMs: number): Promise<boolean> {
    const ttl = Math.max(1, Math.ceil(ttlMs));
    const result = await this.command(() =>
      this.client.set(`${this.keys.claims}${key}`, '1', 'PX', ttl, 'NX'),
    );
    return result === 'OK';
  }

  /** Re-reads the whole set atomically with its version, replaying changes that raced it. */
  resync(): Promise<void> {
    if (this.stopped || !this.up) return Promise.resolve();
    this.resyncing ??= this.load().finally(() => (this.resyncing = undefined));
    return this.resyncing;
  }

  /**
   * Reads the version, then the hash in batches (never one huge reply), into a new set that
   * replaces the mirror at the end. Changes published meanwhile are buffered and replayed on
   * top, so the result is at least as new as the version read first.
   */
  private async load(): Promise<void> {
    this.buffered = [];
    try {
      const version = Number((await this.client.get(this.keys.version)) ?? 0);
      const next = new RevocationSet();
      const now = this.now();
      await this.scan((entry) => {
        if (entry.expiresAt > now) next.put(entry);
      });

      this.mirror.replaceWith(next);
      this.version = version;
      for (const change of this.buffered) if (change.v > version) this.apply(change);
      this.synced = this.now();
      this.mismatch = undefined;
      this.options.log.debug({ entries: next.size, version }, 'revocation set loaded');
      this.firstSync?.();
      this.firstSync = undefined;
      void this.pruneExpired(now);
    } catch (error) {
      this.options.log.warn(
        { err: { message: (error as Error).message } },
        'revocation set reload failed',
      );
    } finally {
      this.buffered = undefined;
      this.options.onChange?.();
    }
  }

  /** Calls `visit` with every well-formed entry of the hash, 1,000 fields per round trip. */
  private async scan(visit: (entry: RevocationEntry) => void): Promise<void> {
    let cursor = '0';
    let rounds = 0;
    do {
      const [nextCursor, fields] = await this.client.hscan(
        this.keys.entries,
        cursor,
        'COUNT',
        1_000,
      );
      for (let at = 1; at < fields.length; at += 2) {
        const entry = parseEntry(fields[at]!);
        if (entry !== undefined) visit(entry);
      }
      cursor = nextCursor;
      rounds += 1;
    } while (cursor !== '0' && rounds < 1_000_000);
  }

  async list(filter: ListFilter): Promise<RevocationEntry[]> {
    const found: RevocationEntry[] = [];
    await this.command(() => this.scan((entry) => found.push(entry)));
    return filterEntries(found, filter, this.now());
  }

  /** Removes expired entries from Redis itself, in bounded batches. */
  private async pruneExpired(now: number): Promise<void> {
    try {
      const expired = await this.client.zrangebyscore(
        this.keys.expiry,
        '-inf',
        now,
        'LIMIT',
        0,
        1_000,
      );
      if (expired.length === 0) return;
      await this.client
        .multi()
        .hdel(this.keys.entries, ...expired)
        .zrem(this.keys.expiry, ...expired)
        .exec();
    } catch {
      // The next re-sync tries again; expired entries never match anyway.
    }
  }

  private async heartbeat(): Promise<void> {
    if (this.stopped || !this.up || this.resyncing !== undefined) {
      this.options.onChange?.();
      return;
    }
    try {
      const version = Number((await this.client.get(this.keys.version)) ?? 0);
      if (version === this.version) {
        this.synced = this.now();
        this.mismatch = undefined;
      } else if (version < this.version || this.mismatch === version) {
        // A lower version means Redis lost or replaced its data; the same higher version twice
        // means a change message went missing. Either way, read everything again.
        await this.resync();
      } else {
        this.mismatch = version;
      }
    } catch {
      // The connection events report the outage; the mirror just ages.
    }
    this.options.onChange?.();
  }

  private onMessage(message: string): void {
    let change: Change;
    try {
      change = JSON.parse(message) as Change;
    } catch {
      return;
    }
    if (typeof change?.v !== 'number') return;
    if (this.buffered !== undefined) {
      this.buffered.push(change);
      return;
    }
    if (change.v <= this.version) return;
    this.apply(change);
  }

  private apply(change: Change): void {
    if (change.op === 'put') {
      const entry = parseEntry(JSON.stringify(change.entry));
      if (entry !== undefined) this.mirror.put(entry);
    } else if (change.op === 'del' && typeof change.key === 'string') {
      this.mirror.delete(change.key);
    }
    if (change.v === this.version + 1) this.version = change.v;
  }

  private async command<T>(run: () => Promise<T>): Promise<T> {
    if (!this.up) throw new StoreUnavailableError('redis is not connected');
    try {
      return await run();
    } catch (error) {
      throw new StoreUnavailableError(`redis command failed: ${(error as Error).message}`);
    }
  }

  private noteState(): void {
    const up = this.up;
    if (up !== this.wasUp && !this.stopped) {
      if (up) this.options.log.info('redis connected');
      else this.options.log.warn('redis unreachable; revocation checks continue from the mirror');
    }
    this.wasUp = up;
    this.options.onChange?.();
  }
}
