import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import type { RunningEnvoy } from '../support/envoy.js';
import {
  STACK_AUDIENCE as AUDIENCE,
  STACK_ISSUER as ISSUER,
  startEnvoyStack,
  type EnvoyStack,
} from '../support/envoy-stack.js';
import { CLI } from '../support/paths.js';
import type { RunningTokengate } from '../support/tokengate.js';
import { signToken, type TestKey } from '../support/tokens.js';
import { suiteTool } from '../support/tools.js';

const SCOPE = 'tokengate:admin';
const run = promisify(execFile);

const [envoyBin, missing] = suiteTool('envoy');

describe('revocation through a real Envoy', { skip: missing }, () => {
  let stack: EnvoyStack;
  let key: TestKey;
  let tokengate: RunningTokengate;
  let envoy: RunningEnvoy;
  let adminAddress: string;
  let adminToken: string;

  before(async () => {
    stack = await startEnvoyStack({
      envoyBin: envoyBin!,
      jwks: { cooldown: '100ms' },
      config: { admin: { address: '127.0.0.1:0', bearer: { scope: SCOPE } } },
    });
    ({ key, tokengate, envoy } = stack);
    adminAddress = tokengate.logs().find((line) => line.msg === 'tokengate listening')!
      .admin as string;
    adminToken = await signToken(key, {
      issuer: ISSUER,
      audience: AUDIENCE,
      subject: 'ops-bob',
      claims: { scope: SCOPE },
    });
  });

  after(() => stack?.stop());

  const get = (token: string) =>
    fetch(`${envoy.url}/orders/1`, { headers: { authorization: `Bearer ${token}` } });
  const revoke = (...args: string[]) =>
    run(process.execPath, [CLI, 'revoke', '--admin', adminAddress, '--issuer', 'corp', ...args], {
      env: { ...process.env, TOKENGATE_ADMIN_TOKEN: adminToken },
    });

  test('answers 401 invalid_token to a token that worked, right after `tokengate revoke --jti`', async () => {
    const token = await signToken(key, { issuer: ISSUER, audience: AUDIENCE, subject: 'alice' });
    const jti = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).jti as string;
    assert.equal((await get(token)).status, 200);

    await revoke('--jti', jti, '--reason', 'reported stolen');
    const response = await get(token);
    assert.equal(response.status, 401);
    assert.match(response.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
    const line = await tokengate.waitForDecision((entry) => entry.reason === 'token_revoked');
    assert.equal(line.subject, 'alice');
  });

  test('logs a subject out everywhere with `tokengate revoke --subject --before now`', async () => {
    const now = Math.floor(Date.now() / 1000);
    const first = await signToken(key, {
      issuer: ISSUER,
      audience: AUDIENCE,
      subject: 'bob',
      now: now - 5,
    });
    const second = await signToken(key, {
      issuer: ISSUER,
      audience: AUDIENCE,
      subject: 'bob',
      now: now - 1,
    });
    assert.equal((await get(first)).status, 200);

    await revoke('--subject', 'bob', '--before', 'now');
    assert.equal((await get(first)).status, 401);
    assert.equal((await get(second)).status, 401);

    // `iat` has one-second resolution: a token of the cut-off's own second still counts as before.
    const fresh = await signToken(key, {
      issuer: ISSUER,
      audience: AUDIENCE,
      subject: 'bob',
      now: Math.floor(Date.now() / 1000) + 1,
    });
    assert.equal((await get(fresh)).status, 200, 'a token issued after the cut-off works');
  });

  test('revokes a token without jti by its signing input, read from a file and hashed locally', async () => {
    const { writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tempDir } = await import('../support/temp.js');
    const { SignJWT } = await import('jose');
    const token = await new SignJWT({ sub: 'carol' })
      .setProtectedHeader({ alg: 'ES256', kid: key.kid })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(key.privateKey);
    assert.equal((await get(token)).status, 200);

    const dir = tempDir();
    const file = join(dir.path, 'token.txt');
    writeFileSync(file, `${token}\n`);
    const { stdout } = await revoke('--revoke-token-file', file);
    dir.remove();
    assert.equal(JSON.parse(stdout).entry.kind, 'KIND_DIGEST');
    assert.equal((await get(token)).status, 401);
    assert.ok(
      tokengate.child.stdout.every((text) => !text.includes(token)),
      'never logged',
    );
  });
});
