import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { badConfigs } from '../config/support.js';
import { CLI } from '../support/paths.js';
import { tempDir } from '../support/temp.js';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI to its exit, killing it if it runs past `timeoutMs`. */
function run(args: string[], timeoutMs = 30_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(
          `tokengate ${args.join(' ')} still running after ${timeoutMs} ms\n${stdout}${stderr}`,
        ),
      );
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('tokengate serve with a bad config', { concurrency: 2 }, () => {
  for (const bad of badConfigs()) {
    test(`exits non-zero before listening on ${bad.name}, naming ${bad.fields[0]} on stderr`, async () => {
      const result = await run(['serve', '--config', bad.path]);
      assert.equal(result.code, 1);
      assert.ok(!result.stdout.includes('tokengate listening'), result.stdout);
      for (const field of bad.fields)
        assert.ok(result.stderr.includes(`  ${field}: `), result.stderr);
    });
  }

  test('exits with usage status 2 without --config', async () => {
    const result = await run(['serve']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /--config/);
  });
});

describe('tokengate check-config', () => {
  test('reports every problem of a file at once', async () => {
    const many = badConfigs().find((bad) => bad.name === 'many-problems.yaml')!;
    const result = await run(['check-config', many.path]);
    assert.equal(result.code, 1);
    const reported = result.stderr.split('\n').filter((line) => line.startsWith('  '));
    assert.ok(reported.length >= many.fields.length, result.stderr);
    for (const field of many.fields)
      assert.ok(result.stderr.includes(`  ${field}: `), result.stderr);
  });

  test('says ok and exits 0 for a good file', async () => {
    const dir = tempDir();
    try {
      const path = join(dir.path, 'good.yaml');
      writeFileSync(
        path,
        [
          'issuers:',
          '  - name: corp',
          '    issuer: https://login.example.test/',
          '    audiences: [orders-api]',
          '    jwks: { file: ./jwks.json }',
          '    algorithms: [ES256]',
        ].join('\n'),
      );
      const result = await run(['check-config', path]);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /: ok \(1 issuers, hash [0-9a-f]{16}\)/);
    } finally {
      dir.remove();
    }
  });

  test('exits 2 without a file argument', async () => {
    assert.equal((await run(['check-config'])).code, 2);
  });
});
