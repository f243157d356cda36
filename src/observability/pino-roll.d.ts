declare module 'pino-roll' {
  import type { DestinationStream } from 'pino';

  interface PinoRollOptions {
    file: string;
    size?: string | number;
    frequency?: 'daily' | 'hourly' | number;
    extension?: string;
    limit?: { count?: number; removeOtherLogFiles?: boolean };
    mkdir?: boolean;
    symlink?: boolean;
    sync?: boolean;
    /** Passed to SonicBoom: `buffer` makes it queue and write Buffers as they are. */
    contentMode?: 'buffer' | 'utf8';
  }

  interface RollingStream extends DestinationStream {
    flushSync(): void;
    end(): void;
    once(event: 'close' | 'finish', listener: () => void): this;
  }

  export default function pinoRoll(options: PinoRollOptions): Promise<RollingStream>;
}
