import { pino, type DestinationStream, type Logger, type LevelWithSilent } from 'pino';

/**
 * Paths pino censors in every line. tokengate never logs a token, header set or cookie in the
 * first place; this list is the backstop for a mistake, not the plan.
 */
export const REDACTED_PATHS = [
  'authorization',
  'cookie',
  'token',
  'headers.authorization',
  'headers.cookie',
  'headers["set-cookie"]',
  'request.headers.authorization',
  'request.headers.cookie',
  '*.authorization',
  '*.cookie',
  '*.token',
];

export interface LoggerOptions {
  level: LevelWithSilent;
  /** Where lines go; stdout when absent. */
  destination?: DestinationStream;
}

export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level,
      base: { service: 'tokengate' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination ??
      byteDestination(pino.destination({ fd: 1, sync: false, contentMode: 'buffer' })),
  );
}

/** A stream that takes bytes as well as strings. */
export interface ByteStream {
  write(chunk: Buffer | string): unknown;
}

/**
 * Lets a SonicBoom in buffer mode take pino's string lines too, so the decision log can hand it
 * bytes it has already encoded: in its default mode SonicBoom measures each string's UTF-8
 * length on the way in and encodes it twice more on the way out (for the write, and again when
 * the write completes), which at saturating load cost about as much as building the audit lines.
 */
export function byteDestination<T extends object>(sonic: T): T & DestinationStream & ByteStream {
  const stream = sonic as T & ByteStream;
  const writeBytes = stream.write.bind(stream);
  stream.write = (chunk) => writeBytes(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return stream;
}
