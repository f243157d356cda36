import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError, validateConfig } from '../../src/config/load.js';
import { ISSUERS } from './fixtures.js';

/** The `field: message` problems of a config with these policies, or [] when it is valid. */
function problemsOf(policies: unknown): { field: string; message: string }[] {
  try {
    validateConfig({ issuers: ISSUERS, policies });
    return [];
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return [...error.problems];
  }
}

const fields = (policies: unknown) => problemsOf(policies).map((problem) => problem.field);

describe('policy config', () => {
  test('a config without policies stays valid and has none', () => {
    const { config } = validateConfig({ issuers: ISSUERS });
    assert.equal(config.policies, undefined);
  });

  test('reports every bad rule at once, each naming its rule index and field', () => {
    const problems = problemsOf({
      rules: [
        { match: { paths: ['/a/**/b'] }, allow: 'anonymous' },
        { require: { expression: 'token.sub ==' } },
        { require: { expression: 'request.methd == "GET"' } },
        { allow: 'anonymous', deny: true },
        { require: { claims: [{ claim: 'x' }] } },
        { match: { methods: ['get'] }, deny: true },
        { allow: 'anonymous', oneTimeUse: true },
      ],
    });
    assert.deepEqual(
      problems.map((problem) => problem.field),
      [
        'policies.rules[0].match.paths[0]',
        'policies.rules[1].require.expression',
        'policies.rules[2].require.expression',
        'policies.rules[3]',
        'policies.rules[4].require.claims[0]',
        'policies.rules[5].match.methods[0]',
        'policies.rules[6].oneTimeUse',
      ],
    );
    assert.match(problems[1]!.message, /CEL syntax error/);
    assert.match(problems[2]!.message, /methd/);
  });

  test('names rules of named policies by policy name and index', () => {
    assert.deepEqual(fields({ named: { admin: { rules: [{ require: { expression: '1' } }] } } }), [
      'policies.named.admin.rules[0].require.expression',
    ]);
  });

  test('rejects an issuer name no issuer has', () => {
    assert.deepEqual(fields({ rules: [{ require: { issuers: ['corp', 'nobody'] } }] }), [
      'policies.rules[0].require.issuers[1]',
    ]);
  });

  test('rejects duplicate rule names within one policy', () => {
    assert.deepEqual(
      fields({
        rules: [
          { name: 'a', deny: true },
          { name: 'a', deny: true },
        ],
      }),
      ['policies.rules[1].name'],
    );
  });

  test('rejects a fallback to an unknown or shadow policy, and one without shadow mode', () => {
    assert.deepEqual(
      fields({
        named: {
          a: { mode: 'shadow', fallback: 'missing', rules: [] },
          b: { mode: 'shadow', fallback: 'a', rules: [] },
          c: { fallback: 'default', rules: [] },
        },
      }),
      ['policies.named.a.fallback', 'policies.named.b.fallback', 'policies.named.c.fallback'],
    );
  });

  test('rejects a named policy called default', () => {
    assert.deepEqual(fields({ named: { default: { rules: [] } } }), ['policies.named.default']);
  });

  test('rejects unknown keys in a rule', () => {
    assert.deepEqual(fields({ rules: [{ deny: true, scopes: ['a'] }] }), [
      'policies.rules[0].scopes',
    ]);
  });
});
