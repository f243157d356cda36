/**
 * Runs last in `npm test` (the runner takes files in path order, one at a time, and this folder
 * sorts after every other): every token the suite signed is looked for in everything every
 * process printed, tokengate at debug level among them.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { RECORD_DIR } from '../support/suite-record.js';

const missing =
  RECORD_DIR === undefined ? 'only meaningful in a whole-suite run (npm test)' : false;
if (missing && process.env.CI)
  throw new Error(`${missing}: TOKENGATE_TEST_RECORD_DIR is unset (CI does not skip)`);

test('no token the suite made appears in any line any process printed', { skip: missing }, () => {
  const files = readdirSync(RECORD_DIR!);
  const tokens = files.includes('tokens.txt')
    ? readFileSync(join(RECORD_DIR!, 'tokens.txt'), 'utf8').split('\n').filter(Boolean)
    : [];
  const outputs = files.filter((name) => name.startsWith('output-'));

  // A scan of nothing proves nothing: the suite signs hundreds of tokens and starts many processes.
  assert.ok(tokens.length >= 100, `only ${tokens.length} tokens recorded`);
  assert.ok(
    outputs.filter((name) => name.endsWith('-tokengate.log')).length >= 20,
    'too few tokengate runs recorded',
  );

  // The payload and signature segments of each token; the header alone names no one.
  const secrets = new Map<string, string>();
  for (const token of tokens) {
    const [, payload, signature] = token.split('.');
    for (const segment of [payload, signature])
      if (segment && segment.length >= 16) secrets.set(segment, token.slice(0, 12));
  }

  const leaks: string[] = [];
  let lines = 0;
  for (const name of outputs) {
    for (const line of readFileSync(join(RECORD_DIR!, name), 'utf8').split('\n')) {
      lines += 1;
      for (const word of line.split(/[^A-Za-z0-9_-]+/)) {
        if (secrets.has(word))
          leaks.push(`${name}: a segment of the token starting ${secrets.get(word)}…`);
      }
    }
  }
  assert.deepEqual(leaks, [], `${leaks.length} leaks in ${lines} lines`);
});
