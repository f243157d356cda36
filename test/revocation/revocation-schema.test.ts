import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError, validateConfig } from '../../src/config/load.js';

const issuers = [
  {
    name: 'corp',
    issuer: 'https://login.example.test/',
    audiences: ['orders-api'],
    jwks: { uri: 'https://login.example.test/jwks.json' },
    algorithms: ['ES256'],
  },
];

function problemsOf(value: Record<string, unknown>): string[] {
  try {
    validateConfig({ issuers, ...value });
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((problem) => problem.field);
    throw error;
  }
  return [];
}

describe('the revocation and admin config', () => {
  test('defaults to the memory store, failClosed after 30 s, and no admin API', () => {
    const { config } = validateConfig({ issuers });
    assert.equal(config.revocation.store, 'memory');
    assert.equal(config.revocation.mode, 'failClosed');
    assert.equal(config.revocation.staleAfter, 30_000);
    assert.equal(config.admin.address, undefined);
  });

  test('parses durations and a Redis section', () => {
    const { config } = validateConfig({
      issuers,
      revocation: { store: 'redis', redis: { url: 'redis://127.0.0.1:6390' }, staleAfter: '5s' },
    });
    assert.equal(config.revocation.staleAfter, 5_000);
    assert.equal(config.revocation.redis?.keyPrefix, 'tokengate:');
  });

  test('rejects the redis store without a url', () => {
    assert.deepEqual(problemsOf({ revocation: { store: 'redis' } }), ['revocation.redis']);
  });

  test('rejects an admin API without a way to authenticate callers', () => {
    assert.deepEqual(problemsOf({ admin: { address: '127.0.0.1:9002' } }), ['admin.address']);
  });

  test('rejects an admin API on the ext_authz address', () => {
    assert.deepEqual(
      problemsOf({
        grpc: { address: '127.0.0.1:9001' },
        admin: { address: '127.0.0.1:9001', bearer: { scope: 'admin' } },
      }),
      ['admin.address'],
    );
  });

  test('rejects several workers with the memory store when revocations are administered', () => {
    assert.deepEqual(
      problemsOf({ workers: 2, admin: { address: '127.0.0.1:9002', bearer: { scope: 'admin' } } }),
      ['revocation.store'],
    );
  });
});
