import { z } from 'zod';
import { durationSchema as duration } from './duration.js';
import { adminSchema } from '../admin/admin-schema.js';
import { checkRevocationConfig, revocationSchema } from '../revocation/revocation-schema.js';
import { auditSchema, metricsSchema } from '../observability/observability-config.js';
import { checkPolicyReferences, policiesSchema } from '../policy/policy-schema.js';

const tcpAddress = z
  .string()
  .regex(/^(\[[0-9a-fA-F:.]+\]|[^:\s\[\]]+):\d{1,5}$/, 'expected "host:port"');

const address = z
  .string()
  .regex(
    /^(unix:.+|\[[0-9a-fA-F:.]+\]:\d{1,5}|[^:\s]+:\d{1,5})$/,
    'expected "host:port" or "unix:/path"',
  );

/** Asymmetric JWS algorithms only: no HS*, no `none`. */
export const ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
] as const;

const headerName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]*$/, 'expected a lower-case HTTP header name')
  .refine((name) => !name.startsWith(':') && name !== 'host', 'this header cannot be set');

const jwks = z
  .strictObject({
    uri: z.url({ protocol: /^https?$/ }).optional(),
    file: z.string().min(1).optional(),
    /** How often keys are re-fetched when nothing asks earlier. */
    refreshInterval: duration.default(300_000),
    /** Minimum time between two refreshes triggered by an unknown `kid`. */
    cooldown: duration.default(30_000),
    /** Timeout of one JWKS request. */
    timeout: duration.default(5_000),
    /** How long the last good keys keep serving while refreshes fail. */
    gracePeriod: duration.default(43_200_000),
  })
  .refine((value) => (value.uri === undefined) !== (value.file === undefined), {
    message: 'set exactly one of "uri" or "file"',
  });

const issuer = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'expected a short lower-case label'),
  issuer: z.string().min(1),
  audiences: z.array(z.string().min(1)).min(1),
  jwks,
  algorithms: z.array(z.enum(ALGORITHMS)).min(1),
  clockSkew: duration.default(30_000),
  maxTokenAge: duration.optional(),
  /** Required `typ` header, compared without the `application/` prefix (RFC 9068: `at+jwt`). */
  requiredType: z.string().min(1).optional(),
});

export const configSchema = z
  .strictObject({
    grpc: z
      .strictObject({
        address,
        /** Most checks in progress at once; past it a check is refused with RESOURCE_EXHAUSTED. */
        maxInFlight: z.number().int().min(1).max(1_000_000).default(1_024),
      })
      .default({ address: '0.0.0.0:9001', maxInFlight: 1_024 }),
    /** Processes sharing the gRPC and HTTP ports (Node `cluster`); 1 runs no primary. */
    workers: z.number().int().min(1).max(64).default(1),
    http: z.strictObject({ address: tcpAddress }).default({ address: '0.0.0.0:9090' }),
    /** `realm` of every `WWW-Authenticate` challenge. */
    realm: z
      .string()
      .regex(/^[\x20-\x7e]*$/, 'expected printable ASCII')
      .default('tokengate'),
    tokens: z
      .strictObject({
        /** Longest accepted bearer token, checked before any decoding. */
        maxLength: z.number().int().min(256).max(1_048_576).default(8_192),
        cache: z
          .strictObject({ maxEntries: z.number().int().min(0).default(100_000) })
          .default({ maxEntries: 100_000 }),
      })
      .default({ maxLength: 8_192, cache: { maxEntries: 100_000 } }),
    issuers: z.array(issuer).min(1),
    headers: z
      .strictObject({
        /** Upstream header name → claim name. */
        fromClaims: z.record(headerName, z.string().min(1)).default({}),
        /** Remove `authorization` before the request reaches the upstream. */
        removeAuthorization: z.boolean().default(false),
      })
      .default({ fromClaims: {}, removeAuthorization: false }),
    log: z
      .strictObject({
        level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'),
      })
      .default({ level: 'info' }),
    memory: z
      .strictObject({
        /**
         * Resident size in MB past which V8 collects the old generation sooner (see
         * `src/service/memory-limit.ts`); `auto`: 75 % of the container's memory limit shared by
         * the workers, or 192 MB without one; `off`: V8's own heuristic throughout.
         */
        softLimit: z.union([z.number().int().min(32), z.enum(['auto', 'off'])]).default('auto'),
      })
      .default({ softLimit: 'auto' }),
    shutdown: z
      .strictObject({
        /** Time between NOT_SERVING and closing the listeners, so load balancers notice. */
        drainDelay: duration.default(0),
        /** Longest wait for in-flight checks before the process exits. */
        gracePeriod: duration.default(10_000),
      })
      .default({ drainDelay: 0, gracePeriod: 10_000 }),
    /** Revocation and one-time use: see `src/revocation/revocation-schema.ts`. */
    revocation: revocationSchema.prefault({}),
    /** The revocation admin API, off by default: see `src/admin/admin-schema.ts`. */
    admin: adminSchema.prefault({}),
    /** The decision audit log: see `src/observability/observability-config.ts`. */
    audit: auditSchema.prefault({}),
    /** Metrics on `/metrics`: see `src/observability/observability-config.ts`. */
    metrics: metricsSchema.prefault({}),
    /** Route policies: see `src/policy/policy-schema.ts`; absent means any valid token passes. */
    policies: policiesSchema.optional(),
  })
  .superRefine((config, ctx) => {
    if (config.policies !== undefined) {
      checkPolicyReferences(
        config.policies,
        config.issuers.map((entry) => entry.name),
        ctx,
      );
    }
    checkRevocationConfig(config, ctx);
    const seen = new Map<string, number>();
    config.issuers.forEach((entry, index) => {
      for (const [key, value] of [
        ['name', entry.name],
        ['issuer', entry.issuer],
      ] as const) {
        const id = `${key}:${value}`;
        if (seen.has(id)) {
          ctx.addIssue({
            code: 'custom',
            path: ['issuers', index, key],
            message: `duplicates issuers[${seen.get(id)}].${key}`,
          });
        }
        seen.set(id, index);
      }
    });
  });

/** A validated configuration; durations are milliseconds. */
export type Config = z.output<typeof configSchema>;
export type IssuerConfig = Config['issuers'][number];
export type JwksConfig = IssuerConfig['jwks'];
export type Algorithm = (typeof ALGORITHMS)[number];
