import { z } from 'zod';
import { durationSchema as durationMs } from '../config/duration.js';

const redis = z.strictObject({
  /** `redis://[user:password@]host:port[/db]` or `rediss://` for TLS. */
  url: z.string().regex(/^rediss?:\/\/.+/, 'expected a redis:// or rediss:// URL'),
  /**
   * File holding the Redis password (a mounted Kubernetes Secret), read at start; keeps the
   * password out of the config file. Overrides a password in `url`.
   */
  passwordFile: z.string().min(1).optional(),
  /** Prefix of every key and channel tokengate uses, so several deployments can share a Redis. */
  keyPrefix: z
    .string()
    .regex(/^[A-Za-z0-9:_.-]{1,64}$/, 'expected letters, digits and ":_.-"')
    .default('tokengate:'),
  /** Longest wait for one Redis command (one-time-use claims, admin writes). */
  commandTimeout: durationMs.default(500),
});

/**
 * `revocation`: where revocations and one-time-use claims live and how a replica behaves when
 * its copy of them is old. Durations are milliseconds after parsing.
 */
export const revocationSchema = z
  .strictObject({
    /** `memory` (one replica, the default) or `redis` (shared by every replica). */
    store: z.enum(['memory', 'redis']).default('memory'),
    redis: redis.optional(),
    /** Age after which the local mirror of the Redis set counts as stale. */
    staleAfter: durationMs.default(30_000),
    /**
     * With a stale mirror: `failClosed` denies with `revocation_unavailable`, `failOpen`
     * allows.
     */
    mode: z.enum(['failClosed', 'failOpen']).default('failClosed'),
    /**
     * How often the whole set is re-read from Redis regardless. The version heartbeat already
     * catches missed change messages; this is the backstop, and costs about 1 s of CPU per
     * 100,000 entries.
     */
    resyncInterval: durationMs.default(300_000),
    /**
     * How often the replica asks Redis for the set's version; a changed version triggers a
     * re-read.
     */
    heartbeatInterval: durationMs.default(1_000),
    /**
     * Longest token lifetime assumed for an issuer without `maxTokenAge`: subject and client
     * entries, and token entries without a known `exp`, expire this long (plus clock skew) after
     * the time they cover.
     */
    maxTokenLifetime: durationMs.default(86_400_000),
    /** Most entries the set may hold; a revoke beyond it is refused. */
    maxEntries: z.number().int().min(1).max(10_000_000).default(1_000_000),
  })
  .refine((value) => value.store !== 'redis' || value.redis !== undefined, {
    message: 'store "redis" needs a "redis" section with a url',
    path: ['redis'],
  });

export type RevocationConfig = z.output<typeof revocationSchema>;

export const DEFAULT_REVOCATION: RevocationConfig = revocationSchema.parse({});

interface IssueSink {
  addIssue(issue: { code: 'custom'; path: PropertyKey[]; message: string }): void;
}

/** What the cross-field checks read of the whole config. */
interface WholeConfig {
  grpc: { address: string };
  workers?: number;
  revocation: RevocationConfig;
  admin: { address?: string };
  policies?: {
    rules: { oneTimeUse?: boolean }[];
    named: Record<string, { rules: { oneTimeUse?: boolean }[] }>;
  };
}

/**
 * Checks revocation settings against the rest of the config: the admin API never shares the
 * ext_authz port, and several workers need the shared (Redis) store, since a memory store of one
 * worker is invisible to the others.
 */
export function checkRevocationConfig(config: WholeConfig, ctx: IssueSink): void {
  const admin = config.admin.address;
  if (admin !== undefined && admin === config.grpc.address && !admin.endsWith(':0')) {
    ctx.addIssue({
      code: 'custom',
      path: ['admin', 'address'],
      message: 'must differ from grpc.address',
    });
  }

  if ((config.workers ?? 1) <= 1 || config.revocation.store !== 'memory') return;
  const policies = config.policies;
  const oneTimeUse =
    policies !== undefined &&
    [policies.rules, ...Object.values(policies.named).map((policy) => policy.rules)].some((rules) =>
      rules.some((rule) => rule.oneTimeUse === true),
    );
  if (admin !== undefined || oneTimeUse) {
    ctx.addIssue({
      code: 'custom',
      path: ['revocation', 'store'],
      message:
        'with several workers, revocations and one-time use need store "redis": each worker has its own memory',
    });
  }
}
