import { createServer } from 'node:net';
import { startChild, type Child } from './processes.js';
import { tempDir } from './temp.js';

/** A private redis-server on a free loopback port (never 6379), with its own data folder. */
export interface RunningRedis {
  readonly port: number;
  readonly url: string;
  child: Child;
  /** Stops it with SIGTERM (Redis flushes the AOF) or, with `kill`, SIGKILL. */
  stop(options?: { kill?: boolean }): Promise<void>;
  /** Starts it again on the same port and folder, so an AOF is read back. */
  restart(): Promise<void>;
  /** Stops it and removes its folder. */
  remove(): Promise<void>;
}

export interface RedisOptions {
  /** AOF persistence with `appendfsync always`; off by default. */
  appendOnly?: boolean;
  /** Require this password (`requirepass`). */
  password?: string;
}

async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 10; attempt += 1) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
      });
    });
    if (port !== 0 && port !== 6379) return port;
  }
  throw new Error('no free loopback port');
}

export async function startRedis(bin: string, options: RedisOptions = {}): Promise<RunningRedis> {
  const port = await freePort();
  const dir = tempDir('tokengate-redis-');
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    options.appendOnly ? 'yes' : 'no',
    '--appendfsync',
    'always',
    '--dir',
    dir.path,
    '--daemonize',
    'no',
    '--loglevel',
    'notice',
    ...(options.password === undefined ? [] : ['--requirepass', options.password]),
  ];

  const launch = async () => {
    const child = startChild(`redis-${port}`, bin, args);
    await child.waitForLine((line) => line.includes('Ready to accept connections'));
    return child;
  };

  const running: RunningRedis = {
    port,
    url: `redis://127.0.0.1:${port}`,
    child: await launch(),
    stop: async ({ kill = false } = {}) => {
      await running.child.stop(kill ? 'SIGKILL' : 'SIGTERM');
    },
    restart: async () => {
      running.child = await launch();
    },
    remove: async () => {
      await running.child.stop('SIGKILL');
      dir.remove();
    },
  };
  return running;
}
