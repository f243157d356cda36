import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError, loadConfigFile, parseConfig, validateConfig } from '../../src/config/load.js';
import { badConfigs } from './support.js';

const GOOD = `
grpc:
  address: 127.0.0.1:9001
issuers:
  - name: corp
    issuer: https://login.example.test/
    audiences: [orders-api]
    jwks:
      uri: https://login.example.test/jwks.json
    algorithms: [RS256, ES256]
    clockSkew: 45s
    maxTokenAge: 1h
headers:
  fromClaims:
    x-auth-subject: sub
`;

async function problemsOf(path: string) {
  try {
    await loadConfigFile(path);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `${path}: ${(error as Error).message}`);
    return error.problems;
  }
  assert.fail(`${path} was accepted`);
}

describe('config loading', () => {
  test('accepts a good file, parses durations to milliseconds and fills defaults', () => {
    const { config, hash } = parseConfig(GOOD, 'good.yaml');
    const issuer = config.issuers[0]!;
    assert.equal(issuer.clockSkew, 45_000);
    assert.equal(issuer.maxTokenAge, 3_600_000);
    assert.equal(issuer.jwks.cooldown, 30_000);
    assert.equal(config.tokens.maxLength, 8_192);
    assert.equal(config.http.address, '0.0.0.0:9090');
    assert.match(hash, /^[0-9a-f]{16}$/);
  });

  test('freezes the loaded config', () => {
    const { config } = parseConfig(GOOD);
    assert.ok(Object.isFrozen(config) && Object.isFrozen(config.issuers[0]!.audiences));
    assert.throws(() => (config.issuers as unknown as unknown[]).push({}));
  });

  test('gives the same text the same hash and other text another', () => {
    assert.equal(parseConfig(GOOD).hash, parseConfig(GOOD).hash);
    assert.notEqual(parseConfig(GOOD).hash, parseConfig(`${GOOD}\nrealm: other\n`).hash);
  });

  test('names an unknown nested key by its own path', () => {
    const value = parseConfig(GOOD).config as unknown as Record<string, any>;
    const copy = structuredClone(value);
    copy.issuers[0].jwk = {};
    assert.throws(
      () => validateConfig(copy),
      (error: ConfigError) => error.problems.some((p) => p.field === 'issuers[0].jwk'),
    );
  });

  test('refuses a file that cannot be read, naming the file', async () => {
    const problems = await problemsOf('/nonexistent/tokengate.yaml');
    assert.equal(problems[0]!.field, '(file)');
  });

  for (const bad of badConfigs()) {
    test(`refuses ${bad.name} (${bad.about}) naming ${bad.fields.join(', ')}`, async () => {
      const problems = await problemsOf(bad.path);
      const fields = problems.map((p) => p.field);
      for (const field of bad.fields)
        assert.ok(fields.includes(field), `${field} not in ${fields.join(', ')}`);
      for (const problem of problems) assert.ok(problem.message.length > 0);
      if (bad.fields.includes('(yaml)')) assert.match(problems[0]!.message, /line \d+/);
    });
  }
});
