import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { recordOutput } from './suite-record.js';

/** A child process whose output lines are kept and can be awaited. */
export class Child {
  readonly stdout: string[] = [];
  readonly stderr: string[] = [];
  private readonly waiters: { test: (line: string) => boolean; resolve: (line: string) => void }[] =
    [];
  readonly exited: Promise<number | null>;

  constructor(
    readonly name: string,
    readonly process: ChildProcess,
  ) {
    for (const [stream, lines] of [
      [process.stdout, this.stdout],
      [process.stderr, this.stderr],
    ] as const) {
      if (stream === null) continue;
      createInterface({ input: stream }).on('line', (line) => {
        lines.push(line);
        for (const waiter of [...this.waiters]) {
          if (waiter.test(line)) {
            this.waiters.splice(this.waiters.indexOf(waiter), 1);
            waiter.resolve(line);
          }
        }
      });
    }
    this.exited = once(process, 'exit').then(([code]) => code as number | null);
    // 'close' comes after the last line of output, so the whole of it is kept.
    process.once('close', () => recordOutput(name, [...this.stdout, ...this.stderr]));
  }

  /** Resolves with the first line (past or future) that passes `test`; rejects on exit or timeout. */
  waitForLine(test: (line: string) => boolean, timeoutMs = 15_000): Promise<string> {
    const seen = [...this.stdout, ...this.stderr].find(test);
    if (seen !== undefined) return Promise.resolve(seen);

    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(new Error(`${this.name}: no matching line in ${timeoutMs} ms\n${this.tail()}`)),
        timeoutMs,
      );
      const waiter = {
        test,
        resolve: (line: string) => {
          clearTimeout(timer);
          resolve(line);
        },
      };
      this.waiters.push(waiter);
      void this.exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`${this.name} exited with ${code}\n${this.tail()}`));
      });
    });
  }

  /** The last lines of output, for failure messages. */
  tail(lines = 30): string {
    return [...this.stdout.slice(-lines), ...this.stderr.slice(-lines)].join('\n');
  }

  /** Sends `signal` and waits for the exit, killing after `timeoutMs`. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 10_000): Promise<number | null> {
    if (this.process.exitCode !== null || this.process.signalCode !== null)
      return this.process.exitCode;
    this.process.kill(signal);
    const timer = setTimeout(() => this.process.kill('SIGKILL'), timeoutMs);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }
}

export function startChild(
  name: string,
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Child {
  const child = spawn(command, args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Child(name, child);
}
