import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { allow, deny, type DenyDecision } from '../../src/decision/decision.js';
import { REASON_CODES, REASONS, type ReasonCode } from '../../src/decision/reasons.js';

const header = (decision: DenyDecision, name: string) =>
  decision.responseHeaders.find(([key]) => key === name)?.[1];

const DENY_CODES = REASON_CODES.filter((code) => REASONS[code].status !== 200);

describe('deny()', () => {
  test('answers a missing token with 401 and a bare realm challenge', () => {
    const decision = deny('token_missing', { realm: 'tokengate' });
    assert.equal(decision.status, 401);
    assert.equal(header(decision, 'www-authenticate'), 'Bearer realm="tokengate"');
    assert.deepEqual(JSON.parse(decision.body), {
      error: 'token_missing',
      error_description: REASONS.token_missing.description,
    });
  });

  test('answers an invalid token with 401, error and error_description', () => {
    const decision = deny('token_expired', { realm: 'api' });
    assert.equal(decision.status, 401);
    assert.equal(decision.reason, 'token_expired');
    assert.equal(
      header(decision, 'www-authenticate'),
      'Bearer realm="api", error="invalid_token", error_description="token has expired"',
    );
    assert.deepEqual(JSON.parse(decision.body), {
      error: 'invalid_token',
      error_description: 'token has expired',
    });
    assert.equal(header(decision, 'content-type'), 'application/json');
  });

  test('answers a malformed header with 400 and invalid_request', () => {
    const decision = deny('header_malformed', { realm: 'api' });
    assert.equal(decision.status, 400);
    assert.match(
      header(decision, 'www-authenticate')!,
      /^Bearer realm="api", error="invalid_request", /,
    );
    assert.equal(JSON.parse(decision.body).error, 'invalid_request');
  });

  test('names the needed scopes in an insufficient_scope challenge', () => {
    const decision = deny('insufficient_scope', {
      realm: 'api',
      scope: 'orders:read orders:write',
    });
    assert.equal(decision.status, 403);
    assert.equal(
      header(decision, 'www-authenticate'),
      `Bearer realm="api", error="insufficient_scope", error_description="${REASONS.insufficient_scope.description}", scope="orders:read orders:write"`,
    );
  });

  test('sends no challenge for 5xx denies and for plain 403s', () => {
    for (const code of [
      'keys_unavailable',
      'revocation_unavailable',
      'internal_error',
      'policy_denied',
    ] as const) {
      const decision = deny(code, { realm: 'api' });
      assert.equal(header(decision, 'www-authenticate'), undefined, code);
      assert.equal(JSON.parse(decision.body).error, code);
    }
    assert.equal(deny('keys_unavailable', { realm: 'api' }).status, 503);
    assert.equal(deny('internal_error', { realm: 'api' }).status, 500);
  });

  test('escapes quotes and backslashes in the realm and scope', () => {
    const decision = deny('insufficient_scope', { realm: 'say "hi" \\o/', scope: 'a"b' });
    const value = header(decision, 'www-authenticate')!;
    assert.ok(value.startsWith('Bearer realm="say \\"hi\\" \\\\o/", '), value);
    assert.ok(value.endsWith(', scope="a\\"b"'), value);
  });

  test('carries subject and origin for the log, never into the response', () => {
    const decision = deny('token_revoked', {
      realm: 'api',
      caller: { issuer: 'corp', subject: 'alice', fingerprint: 'abcdef0123456789' },
      origin: { policy: 'orders', rule: 'read' },
    });
    assert.equal(decision.caller?.subject, 'alice');
    assert.equal(decision.origin?.policy, 'orders');
    const visible = decision.body + decision.responseHeaders.map(([, v]) => v).join('');
    assert.ok(!visible.includes('alice') && !visible.includes('abcdef0123456789'));
  });

  test('builds a well-formed response for every deny code in REASONS', () => {
    assert.ok(DENY_CODES.length > 20);
    for (const code of DENY_CODES) {
      const spec = REASONS[code];
      const decision = deny(code, { realm: 'tokengate', scope: 'x' });
      assert.equal(decision.status, spec.status, code);
      assert.ok([400, 401, 403, 500, 503].includes(decision.status), code);

      const body = JSON.parse(decision.body) as Record<string, unknown>;
      assert.deepEqual(Object.keys(body).sort(), ['error', 'error_description'], code);
      assert.equal(body.error, 'error' in spec ? spec.error : code);
      assert.equal(body.error_description, spec.description);

      const challenge = header(decision, 'www-authenticate');
      assert.equal(challenge !== undefined, spec.challenge, code);
      if (decision.status >= 500) assert.equal(challenge, undefined, code);
      if (decision.status === 401)
        assert.ok(challenge?.startsWith('Bearer realm="tokengate"'), code);
      for (const [name, value] of decision.responseHeaders) {
        assert.match(name, /^[a-z-]+$/, code);
        assert.match(value, /^[\x20-\x7e]*$/, `${code}: ${name}`);
      }
    }
  });

  test('uses fixed descriptions that can never echo a token or claim', () => {
    for (const code of REASON_CODES) {
      const { description } = REASONS[code as ReasonCode];
      assert.match(description, /^[a-z0-9 "(),.-]+$/i, code);
      assert.ok(!/eyJ|\$\{|%s/.test(description), code);
      assert.ok(description.length < 80, code);
    }
  });
});

describe('allow()', () => {
  test('defaults to reason allowed with no header changes', () => {
    const decision = allow();
    assert.equal(decision.kind, 'allow');
    assert.equal(decision.reason, 'allowed');
    assert.deepEqual(decision.headersToSet, []);
    assert.deepEqual(decision.headersToRemove, []);
  });

  test('keeps the given reason, headers, subject and origin', () => {
    const decision = allow({
      reason: 'anonymous',
      headersToSet: [['x-auth-subject', 'alice']],
      headersToRemove: ['authorization'],
      caller: { issuer: 'corp', subject: 'alice' },
      origin: { policy: 'public' },
    });
    assert.equal(decision.reason, 'anonymous');
    assert.deepEqual(decision.headersToSet, [['x-auth-subject', 'alice']]);
    assert.deepEqual(decision.headersToRemove, ['authorization']);
    assert.equal(decision.caller?.issuer, 'corp');
    assert.equal(decision.origin?.policy, 'public');
  });
});

describe('decision shape', () => {
  test('every allow and every deny has the same keys, whatever the options', () => {
    const caller = { issuer: 'corp', fingerprint: 'f' };
    const shadow = { kind: 'deny', reason: 'policy_denied' } as const;
    const keysOf = (decision: object) => Object.keys(decision).join(',');
    const allows = [
      allow(),
      allow({ caller, origin: { policy: 'p' }, shadow, reason: 'anonymous' }),
    ];
    const denies = [
      deny('token_missing', { realm: 'r' }),
      deny('insufficient_scope', { realm: 'r', scope: 'a', caller, origin: {}, shadow }),
    ];
    assert.equal(keysOf(allows[0]!), keysOf(allows[1]!));
    assert.equal(keysOf(denies[0]!), keysOf(denies[1]!));
  });
});
