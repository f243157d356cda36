import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { AdminClient } from '../../src/admin/admin-client.js';
import { REVOCATIONS_SERVICE, revocationsService } from '../../src/admin/admin-protos.js';
import { JwksServer } from '../support/jwks-server.js';
import { CLI } from '../support/paths.js';
import { CheckClient, startTokengate, type RunningTokengate } from '../support/tokengate.js';
import { createKey, jwksOf, signToken, type TestKey } from '../support/tokens.js';
import { findTool } from '../support/tools.js';
import { makePki, type TestPki } from './certs.js';

const ISSUER = 'https://login.example.test/';
const AUDIENCE = 'orders-api';
const SCOPE = 'tokengate:admin';
const run = promisify(execFile);

const openssl = findTool('openssl');
const missing = openssl === undefined ? 'openssl is not installed' : false;

function adminAddressOf(tokengate: RunningTokengate): string {
  const line = tokengate.logs().find((entry) => entry.msg === 'tokengate listening');
  return line!.admin as string;
}

const issuerConfig = (jwks: JwksServer) => [
  {
    name: 'corp',
    issuer: ISSUER,
    audiences: [AUDIENCE],
    jwks: { uri: jwks.uri, cooldown: '100ms', refreshInterval: '1h' },
    algorithms: ['ES256'],
  },
];

function statusOf(error: unknown): number | undefined {
  return (error as { code?: number }).code;
}

describe('the admin API with bearer tokens', () => {
  let key: TestKey;
  let jwks: JwksServer;
  let tokengate: RunningTokengate;
  let admin: string;

  before(async () => {
    key = await createKey('ES256');
    jwks = await new JwksServer(jwksOf(key)).start();
    tokengate = await startTokengate({
      issuers: issuerConfig(jwks),
      admin: { address: '127.0.0.1:0', bearer: { scope: SCOPE } },
    });
    admin = adminAddressOf(tokengate);
  });

  after(async () => {
    await tokengate?.stop();
    await jwks?.stop();
  });

  const adminToken = (claims: Record<string, unknown> = { scope: `orders:read ${SCOPE}` }) =>
    signToken(key, { issuer: ISSUER, audience: AUDIENCE, subject: 'ops-bob', claims });

  test('listens on its own port, and the ext_authz port does not serve it', async () => {
    assert.ok(admin !== undefined && admin !== tokengate.grpcAddress);
    const Client = grpc.makeGenericClientConstructor(revocationsService(), 'Revocations');
    const client = new Client(tokengate.grpcAddress, grpc.credentials.createInsecure()) as any;
    const metadata = new grpc.Metadata();
    metadata.set('authorization', `Bearer ${await adminToken()}`);
    const error = await new Promise((resolve) =>
      client.Status({}, metadata, { deadline: Date.now() + 5_000 }, resolve),
    );
    client.close();
    assert.equal(statusOf(error), grpc.status.UNIMPLEMENTED, `${REVOCATIONS_SERVICE} not there`);
  });

  test('refuses a call without credentials with UNAUTHENTICATED', async () => {
    const client = new AdminClient({ address: admin });
    await assert.rejects(
      client.call('Status', {}),
      (error) => statusOf(error) === grpc.status.UNAUTHENTICATED,
    );
    client.close();
  });

  test('refuses a token signed by a key the issuer never published', async () => {
    const forger = await createKey('ES256', key.kid);
    const forged = await signToken(forger, {
      issuer: ISSUER,
      audience: AUDIENCE,
      subject: 'ops-bob',
      claims: { scope: SCOPE },
    });
    const client = new AdminClient({ address: admin, token: forged });
    await assert.rejects(
      client.call('List', {}),
      (error) => statusOf(error) === grpc.status.UNAUTHENTICATED,
    );
    client.close();
  });

  test('refuses a valid token without the admin scope with PERMISSION_DENIED', async () => {
    const client = new AdminClient({
      address: admin,
      token: await adminToken({ scope: 'orders:read' }),
    });
    await assert.rejects(
      client.call('Revoke', { target: { kind: 'KIND_SUBJECT', issuer: 'corp', value: 'alice' } }),
      (error) => statusOf(error) === grpc.status.PERMISSION_DENIED,
    );
    client.close();
    const refused = await tokengate.child.waitForLine(
      (line) => line.includes('"admin call refused"') && line.includes('"action":"revoke"'),
    );
    assert.match(refused, /"why":"token lacks scope/);
  });

  test('revokes a token by jti for a caller with the scope, and the next check denies it', async () => {
    const checks = new CheckClient(tokengate.grpcAddress);
    const victim = await signToken(key, { issuer: ISSUER, audience: AUDIENCE, subject: 'alice' });
    const jti = JSON.parse(Buffer.from(victim.split('.')[1]!, 'base64url').toString())
      .jti as string;
    const bearer = { authorization: `Bearer ${victim}` };
    assert.equal((await checks.check({ headers: bearer })).status.code, 0);

    const token = await adminToken();
    const client = new AdminClient({ address: admin, token });
    const response = await client.call('Revoke', {
      target: { kind: 'KIND_JTI', issuer: 'corp', value: jti },
      reason: 'laptop stolen',
    });
    assert.equal(response.entry.issuer, ISSUER);
    assert.equal(response.entry.revoked_by, 'token:corp:ops-bob');

    const denied = await checks.check({ headers: bearer });
    assert.notEqual(denied.status.code, 0);
    const line = await tokengate.waitForDecision((entry) => entry.reason === 'token_revoked');
    assert.equal(line.decision, 'deny');

    const listed = await client.call('List', { issuer: 'corp', kind: 'KIND_JTI' });
    assert.deepEqual(
      listed.entries.map((entry: { value: string }) => entry.value),
      [jti],
    );
    const status = await client.call('Status', {});
    assert.equal(status.store, 'memory');
    assert.equal(status.stale, false);

    const audit = await tokengate.child.waitForLine(
      (text) => text.includes('"admin action"') && text.includes('"action":"revoke"'),
    );
    assert.match(audit, /"actor":"token:corp:ops-bob"/);
    assert.ok(
      tokengate.child.stdout.every((text) => !text.includes(token) && !text.includes(victim)),
      'no token value in any log line',
    );

    assert.equal(
      (await client.call('Unrevoke', { target: { kind: 'KIND_JTI', issuer: ISSUER, value: jti } }))
        .removed,
      true,
    );
    assert.equal((await checks.check({ headers: bearer })).status.code, 0);
    client.close();
    checks.close();
  });

  test('exports the entry count, and no tokengate_redis_up, with the memory store', async () => {
    const client = new AdminClient({ address: admin, token: await adminToken() });
    await client.call('Revoke', {
      target: { kind: 'KIND_CLIENT', issuer: 'corp', value: 'm-app' },
    });
    client.close();
    const metrics = await (await fetch(`http://${tokengate.httpAddress}/metrics`)).text();
    assert.match(metrics, /^tokengate_revocation_entries [1-9]/m);
    assert.match(metrics, /^tokengate_revocation_mirror_age_seconds 0$/m);
    assert.doesNotMatch(metrics, /^tokengate_redis_up/m);
  });

  test('answers INVALID_ARGUMENT for an unknown issuer or a missing target', async () => {
    const client = new AdminClient({ address: admin, token: await adminToken() });
    await assert.rejects(
      client.call('Revoke', { target: { kind: 'KIND_JTI', issuer: 'nobody', value: 'x' } }),
      (error) => statusOf(error) === grpc.status.INVALID_ARGUMENT,
    );
    await assert.rejects(
      client.call('Revoke', { target: { issuer: 'corp', value: 'x' } }),
      (error) => statusOf(error) === grpc.status.INVALID_ARGUMENT,
    );
    client.close();
  });

  test('revokes a subject through the CLI and lists it with `tokengate revocations list`', async () => {
    // Issued before the revoke below, whose cut-off is the moment the CLI runs.
    const old = await signToken(key, {
      issuer: ISSUER,
      audience: AUDIENCE,
      subject: 'carol',
      now: Math.floor(Date.now() / 1000) - 1,
    });
    const env = { ...process.env, TOKENGATE_ADMIN_TOKEN: await adminToken() };
    const revoked = await run(
      process.execPath,
      [
        CLI,
        'revoke',
        '--admin',
        admin,
        '--issuer',
        'corp',
        '--subject',
        'carol',
        '--before',
        'now',
      ],
      { env },
    );
    assert.equal(JSON.parse(revoked.stdout).entry.kind, 'KIND_SUBJECT');

    const listed = await run(
      process.execPath,
      [CLI, 'revocations', 'list', '--admin', admin, '--kind', 'subject'],
      { env },
    );
    const values = JSON.parse(listed.stdout).entries.map((entry: { value: string }) => entry.value);
    assert.ok(values.includes('carol'));

    const checks = new CheckClient(tokengate.grpcAddress);
    assert.notEqual(
      (await checks.check({ headers: { authorization: `Bearer ${old}` } })).status.code,
      0,
    );
    checks.close();
  });

  test('fails the CLI with a non-zero exit when the admin API refuses it', async () => {
    await assert.rejects(
      run(process.execPath, [CLI, 'revocations', 'status', '--admin', admin], {
        env: { ...process.env, TOKENGATE_ADMIN_TOKEN: '' },
      }),
      (error: { code?: number; stderr?: string }) =>
        error.code === 1 && /UNAUTHENTICATED/.test(error.stderr ?? ''),
    );
  });
});

describe('the admin API with mTLS', { skip: missing }, () => {
  let pki: TestPki;
  let key: TestKey;
  let jwks: JwksServer;
  let tokengate: RunningTokengate;
  let admin: string;

  before(async () => {
    pki = makePki(openssl);
    key = await createKey('ES256');
    jwks = await new JwksServer(jwksOf(key)).start();
    tokengate = await startTokengate({
      issuers: issuerConfig(jwks),
      admin: {
        address: '127.0.0.1:0',
        tls: { cert: pki.serverCert, key: pki.serverKey, clientCa: pki.ca },
      },
    });
    admin = adminAddressOf(tokengate);
  });

  after(async () => {
    await tokengate?.stop();
    await jwks?.stop();
    pki?.remove();
  });

  test('serves a client whose certificate the configured CA signed, and audits its name', async () => {
    const client = new AdminClient({
      address: admin,
      ca: pki.ca,
      cert: pki.clientCert,
      key: pki.clientKey,
    });
    const response = await client.call('Revoke', {
      target: { kind: 'KIND_CLIENT', issuer: 'corp', value: 'leaky-app' },
    });
    assert.match(response.entry.revoked_by, /^cert:ops-alice:[0-9a-f]{16}$/);
    assert.equal((await client.call('Status', {})).entries, 1);
    client.close();
    const audit = await tokengate.child.waitForLine((text) => text.includes('"admin action"'));
    assert.match(audit, /"actor":"cert:ops-alice:/);
  });

  test('refuses a TLS client without a certificate', async () => {
    const client = new AdminClient({ address: admin, ca: pki.ca });
    await assert.rejects(client.call('Status', {}), (error) => statusOf(error) !== grpc.status.OK);
    client.close();
  });

  test('refuses a client certificate signed by another CA', async () => {
    const client = new AdminClient({
      address: admin,
      ca: pki.ca,
      cert: pki.strangerCert,
      key: pki.strangerKey,
    });
    await assert.rejects(client.call('List', {}), (error) => statusOf(error) !== grpc.status.OK);
    client.close();
  });

  test('refuses a plaintext client', async () => {
    const client = new AdminClient({ address: admin });
    await assert.rejects(
      client.call('Status', {}),
      (error) => statusOf(error) === grpc.status.UNAVAILABLE,
    );
    client.close();
  });
});
