import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createKey, signToken } from '../support/tokens.js';
import { AUDIENCE, ISSUER, startObserved, type ObservedTokengate } from './fixture.js';

/** Claim values no log line may ever carry; only `sub`, `client_id` and `jti` may appear. */
const SECRET_CLAIMS = {
  email: 'zebra.quokka@secret.example',
  name: 'Xanthippe Marigold-Vantablack',
  ssn: '987-65-4321-LEAK',
  roles: ['role-ultraviolet-canary'],
  nested: { pin: 'pin-7734-canary' },
};
const COOKIE_VALUES = ['sess-7f3a9c0e2b-canary', 'csrf-44b1d09e-canary'];

/** Every string that must not reach a log: each token, its base64url segments, cookies, claims. */
function forbiddenStrings(tokens: string[]): string[] {
  const segments = tokens.flatMap((token) => token.split('.')).filter((part) => part.length >= 8);
  const claims = JSON.stringify(SECRET_CLAIMS)
    .match(/"([^"]{6,})"/g)!
    .map((q) => q.slice(1, -1));
  return [
    ...tokens,
    ...segments,
    ...COOKIE_VALUES,
    ...claims.filter((value) => !Object.keys(SECRET_CLAIMS).includes(value) && value !== 'pin'),
  ];
}

describe('logs at debug level through valid, invalid and expired checks', () => {
  let observed: ObservedTokengate;
  const tokens: string[] = [];

  before(async () => {
    observed = await startObserved({
      log: { level: 'debug' },
      headers: { fromClaims: { 'x-auth-email': 'email' } },
      audit: { decisionIdHeader: true },
    });
    const { client } = observed;
    const claims = { ...SECRET_CLAIMS, client_id: 'web' };
    const cookie = `session=${COOKIE_VALUES[0]}; csrf=${COOKIE_VALUES[1]}`;
    const stranger = await createKey('ES256');

    const valid = await observed.token({ claims });
    const expired = await observed.token({ claims, expiresIn: -7200 });
    const foreignKey = await signToken(stranger, { issuer: ISSUER, audience: AUDIENCE, claims });
    const wrongAudience = await observed.token({ claims, audience: 'other-api' });
    const unknownIssuer = await signToken(observed.key, { issuer: 'https://evil.test/', claims });
    const tampered = `${valid.split('.')[0]}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${valid.split('.')[2]}`;
    tokens.push(valid, expired, foreignKey, wrongAudience, unknownIssuer, tampered);

    for (const token of tokens) {
      await client.check({ headers: { authorization: `Bearer ${token}`, cookie } });
    }
    await client.check({ headers: { authorization: `Bearer ${valid}`, cookie } });
    await client.check({ headers: { authorization: `Basic ${valid}`, cookie } });
    await client.check({ headers: { authorization: `Bearer ${valid} ${valid}` } });
    await client.check({ headers: { authorization: `Bearer ${'a'.repeat(9000)}.${valid}` } });
    await client.check({ headers: { cookie, 'x-request-id': 'last' } });
    await observed.tokengate.waitForDecision((line) => line.requestId === 'last');
  });

  after(() => observed?.stop());

  test('captures a line for every check, so the scan below covers them all', () => {
    const all = [...observed.tokengate.child.stdout, ...observed.tokengate.child.stderr];
    assert.ok(all.length >= 12, `only ${all.length} lines`);
  });

  test('never writes a token, a token segment, a cookie or a claim other than the subject', () => {
    const lines = [...observed.tokengate.child.stdout, ...observed.tokengate.child.stderr];
    const forbidden = forbiddenStrings(tokens);
    assert.ok(forbidden.length > 20);
    for (const line of lines) {
      for (const secret of forbidden) {
        assert.ok(!line.includes(secret), `a log line contains "${secret.slice(0, 24)}…": ${line}`);
      }
    }
  });

  test('still names the subject and the token fingerprint of the valid checks', () => {
    const decisions = observed.tokengate.logs().filter((line) => line.msg === 'decision');
    assert.ok(decisions.some((line) => line.subject === 'alice' && line.decision === 'allow'));
    assert.ok(decisions.every((line) => line.reason !== undefined));
  });
});
