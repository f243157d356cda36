import type { Logger } from 'pino';
import type { DecisionSink } from '../decision/authorizer.js';
import { byteDestination, createLogger } from './logger.js';
import { DecisionLog } from './decision-log.js';
import type { AuditConfig } from './observability-config.js';

/** The decision audit log as the service runs it: a sink, and how to close its destination. */
export interface AuditLog {
  /** Absent when `audit.enabled` is false. */
  sink?: DecisionSink;
  /** Writes queued lines, and closes a file destination. */
  close(): Promise<void>;
}

/**
 * Opens the audit destination of `config`. On stdout the lines share the service log's stream
 * (so they never interleave mid-line with it) and are written at info whatever `log.level`
 * says; to a file they go through `pino-roll`, which rotates by size and optionally by time.
 */
export async function openAuditLog(config: AuditConfig, log: Logger): Promise<AuditLog> {
  if (!config.enabled) return { close: async () => {} };
  const options = { allowSampleRate: config.allowSampleRate };

  const destination = config.destination;
  if (destination.kind === 'stdout') {
    const child = log.child({ component: 'decision' }, { level: 'info' });
    const sink = new DecisionLog(child, options);
    return { sink, close: async () => sink.flush() };
  }

  // Loaded only here: it brings date-fns, which a stdout deployment need not load at startup.
  const { default: pinoRoll } = await import('pino-roll');
  const stream = byteDestination(
    await pinoRoll({
      file: destination.path,
      contentMode: 'buffer',
      size:
        typeof destination.maxSize === 'number' ? `${destination.maxSize}m` : destination.maxSize,
      ...(destination.frequency === undefined ? {} : { frequency: destination.frequency }),
      limit: { count: destination.keep },
      mkdir: true,
    }),
  );
  const fileLog = createLogger({ level: 'info', destination: stream });
  const sink = new DecisionLog(fileLog.child({ component: 'decision' }), options);
  return {
    sink,
    close: () =>
      new Promise((resolve) => {
        sink.flush();
        stream.once('close', resolve);
        stream.end();
      }),
  };
}
