import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { stringify } from 'yaml';
import { CLI } from '../support/paths.js';
import { tempDir } from '../support/temp.js';

const dir = tempDir();
const config = join(dir.path, 'tokengate.yaml');
writeFileSync(
  config,
  stringify({
    issuers: [
      {
        name: 'corp',
        issuer: 'https://login.example.test/',
        audiences: ['api'],
        jwks: { file: '/nonexistent/jwks.json' },
        algorithms: ['RS256'],
      },
    ],
    policies: {
      rules: [{ name: 'public', match: { paths: ['/public/**'] }, allow: 'anonymous' }],
      named: {
        orders: {
          rules: [
            { name: 'write', match: { methods: ['POST'] }, deny: true },
            { name: 'read', require: { scopes: { allOf: ['orders:read'] } } },
          ],
        },
        admin: {
          rules: [
            {
              name: 'admins',
              require: {
                expression: '"admin" in token.roles && request.headers["x-admin-mode"] == "on"',
              },
            },
          ],
        },
      },
    },
  }),
);

const explain = (...args: string[]) =>
  spawnSync(process.execPath, [CLI, 'explain', '--config', config, ...args], {
    encoding: 'utf8',
    timeout: 10_000,
  });
const claims = (extra: Record<string, unknown>) =>
  JSON.stringify({ iss: 'https://login.example.test/', sub: 'alice', ...extra });

describe('tokengate explain', () => {
  after(() => dir.remove());

  test('names the policy, the skipped rule and the missing scope of a deny, exiting 1', () => {
    const run = explain(
      '--path',
      '/orders/1',
      '--context',
      'tokengate.policy=orders',
      '--claims',
      claims({ scope: 'orders:write' }),
    );
    assert.equal(run.status, 1);
    assert.match(run.stdout, /policy "orders"/);
    assert.match(run.stdout, /rule write: no match: method GET/);
    assert.match(run.stdout, /decision: deny insufficient_scope \(403\), by orders \/ read/);
    assert.match(run.stdout, /scope="orders:read"/);
  });

  test('evaluates a CEL rule on a claim and a header, exiting 0 on allow', () => {
    const run = explain(
      '--path',
      '/admin/users',
      '--context',
      'tokengate.policy=admin',
      '--header',
      'X-Admin-Mode: on',
      '--claims',
      claims({ roles: ['admin'] }),
    );
    assert.equal(run.status, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /rule admins: expression is true/);
    assert.match(run.stdout, /decision: allow allowed, by admin \/ admins/);
  });

  test('allows an anonymous route without a token', () => {
    const run = explain('--path', '/public/index.html');
    assert.equal(run.status, 0);
    assert.match(run.stdout, /token: none/);
    assert.match(run.stdout, /decision: allow anonymous/);
  });

  test('stops at a token of an unconfigured issuer as a real check would', () => {
    const run = explain('--path', '/public/x', '--claims', JSON.stringify({ iss: 'https://x/' }));
    assert.equal(run.status, 1);
    assert.match(run.stdout, /issuer_unknown/);
  });

  test('rejects bad usage with exit 2', () => {
    for (const args of [
      ['--method', 'GET'],
      ['--path', '/', '--claims', '[1]'],
      ['--path', '/', '--context', 'novalue'],
    ]) {
      const run = explain(...args);
      assert.equal(run.status, 2, `${args.join(' ')}: ${run.stderr}`);
    }
  });
});
