import { z } from 'zod';

const fileDestination = z.strictObject({
  kind: z.literal('file'),
  /** Path of the log file; rotated files get a number appended (`audit.log.1`, ...). */
  path: z.string().min(1),
  /** Rotate when a file reaches this size: a number of MB, or `100k`, `50m`, `1g`. */
  maxSize: z
    .union([z.number().positive(), z.string().regex(/^\d+(\.\d+)?[kmg]?$/, 'expected e.g. "50m"')])
    .default('100m'),
  /** Also rotate on a schedule; absent: by size only. */
  frequency: z.enum(['hourly', 'daily']).optional(),
  /** Rotated files kept besides the current one; older ones are removed. */
  keep: z.number().int().min(0).max(1000).default(10),
});

const stdoutDestination = z.strictObject({ kind: z.literal('stdout') });

/** The `audit` key: the decision audit log. */
export const auditSchema = z.strictObject({
  /** Write one line per decision; off only for benchmarks and the log-free. */
  enabled: z.boolean().default(true),
  /**
   * Share of allow decisions logged, from 0 to 1 (default 1, every one). Denies are always
   * logged whatever this says.
   */
  allowSampleRate: z.number().min(0).max(1).default(1),
  /** Where audit lines go: the service log on stdout (default), or a rotated file. */
  destination: z
    .discriminatedUnion('kind', [stdoutDestination, fileDestination])
    .default({ kind: 'stdout' }),
  /**
   * Also return the decision id as `x-tokengate-decision-id`: on the client's response, and
   * for allows on the upstream request too. It is always in `dynamic_metadata`.
   */
  decisionIdHeader: z.boolean().default(false),
});

/** The `metrics` key. */
export const metricsSchema = z.strictObject({
  /** Count checks and serve `/metrics`; off only to measure what counting costs. */
  enabled: z.boolean().default(true),
});

export type AuditConfig = z.output<typeof auditSchema>;
export type MetricsConfig = z.output<typeof metricsSchema>;
