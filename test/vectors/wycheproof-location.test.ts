import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ROOT } from '../support/paths.js';

const SUITE = join(ROOT, 'dist/test/vectors/wycheproof.test.js');

function runSuite(env: NodeJS.ProcessEnv) {
  // NODE_TEST_CONTEXT would make the child report to this runner instead of its stdout.
  const { CI: _ci, NODE_TEST_CONTEXT: _context, ...base } = process.env;
  return spawnSync(process.execPath, ['--test', '--test-reporter=tap', SUITE], {
    env: { ...base, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
}

describe('where the Wycheproof suite finds its vectors', () => {
  test('skips with a message naming the folder when the vectors are missing', () => {
    const result = runSuite({ WYCHEPROOF_DIR: '/nonexistent/wycheproof' });
    assert.equal(result.status, 0, result.stdout);
    assert.match(result.stdout, /# SKIP Wycheproof vectors not found in \/nonexistent\/wycheproof/);
  });

  test('fails under CI when the vectors are missing', () => {
    const result = runSuite({ WYCHEPROOF_DIR: '/nonexistent/wycheproof', CI: 'true' });
    assert.notEqual(result.status, 0);
    assert.match(result.stdout + result.stderr, /CI does not skip/);
  });
});
