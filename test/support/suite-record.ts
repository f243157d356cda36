import { appendFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Where a whole-suite run (`npm test`) records what its processes printed and which tokens the
 * tests signed, so `test/whole-suite/` can check at the end that no token ever reached a log.
 * Unset when a test file runs on its own: nothing is recorded then.
 */
export const RECORD_DIR = process.env.TOKENGATE_TEST_RECORD_DIR || undefined;

let sequence = 0;

/** Remembers a token the suite made, to look for in every recorded log. */
export function recordToken(token: string): void {
  if (RECORD_DIR !== undefined) appendFileSync(join(RECORD_DIR, 'tokens.txt'), `${token}\n`);
}

/** Keeps everything a child process printed. */
export function recordOutput(name: string, lines: readonly string[]): void {
  if (RECORD_DIR === undefined || lines.length === 0) return;
  const file = join(RECORD_DIR, `output-${process.pid}-${++sequence}-${name}.log`);
  appendFileSync(file, `${lines.join('\n')}\n`);
}
