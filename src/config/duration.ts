import { z } from 'zod';

const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const PATTERN = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;

/**
 * Parses a duration such as `500ms`, `30s`, `5m`, `1h` or `1d` into milliseconds.
 * Returns `undefined` for anything else, so the schema can report the field.
 */
export function parseDuration(text: string): number | undefined {
  const match = PATTERN.exec(text.trim());
  if (match === null) return undefined;
  return Math.round(Number(match[1]) * UNITS[match[2] as string]!);
}

/** The config schema's duration: text such as `30s` in, milliseconds out, the field named on error. */
export const durationSchema = z
  .string({ error: 'expected a duration such as "30s" or "5m"' })
  .transform((text, ctx) => {
    const ms = parseDuration(text);
    if (ms === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: `expected a duration such as "30s" or "5m", got "${text}"`,
      });
      return z.NEVER;
    }
    return ms;
  });
