import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isDecisionId } from '../../src/observability/decision-id.js';
import { tempDir } from '../support/temp.js';
import { fingerprint } from '../support/tokens.js';
import { AUDIT_FIELDS, bearer, startObserved, type ObservedTokengate } from './fixture.js';

const TRACE = '0af7651916cd43dd8448eb211c80319c';
const TRACEPARENT = `00-${TRACE}-b7ad6b7169203331-01`;

describe('the audit line of a running tokengate', () => {
  let observed: ObservedTokengate;

  before(async () => {
    observed = await startObserved({ audit: { decisionIdHeader: true } });
  });

  after(() => observed?.stop());

  test('has every field and the decision id Envoy receives in dynamic_metadata', async () => {
    const token = await observed.token({ claims: { client_id: 'web' } });
    const response = await observed.client.check({
      method: 'PUT',
      path: '/orders/9?secret=query',
      headers: { ...bearer(token), 'x-request-id': 'req-audit-1', traceparent: TRACEPARENT },
      sourceAddress: '127.0.0.9',
    });

    const id = response.dynamic_metadata.fields.decision_id.stringValue as string;
    assert.ok(isDecisionId(id));
    const line = await observed.tokengate.waitForDecision((l) => l.decisionId === id);
    for (const field of AUDIT_FIELDS) {
      if (field === 'policy' || field === 'rule') continue;
      assert.ok(line[field] !== undefined, `missing ${field}`);
    }
    const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString());
    assert.deepEqual(
      {
        requestId: line.requestId,
        traceId: line.traceId,
        source: line.source,
        method: line.method,
        path: line.path,
        host: line.host,
        issuer: line.issuer,
        subject: line.subject,
        clientId: line.clientId,
        jti: line.jti,
        fingerprint: line.fingerprint,
        decision: line.decision,
        reason: line.reason,
      },
      {
        requestId: 'req-audit-1',
        traceId: TRACE,
        source: '127.0.0.9',
        method: 'PUT',
        path: '/orders/9',
        host: 'api.example.com',
        issuer: 'corp',
        subject: 'alice',
        clientId: 'web',
        jti: claims.jti,
        fingerprint: fingerprint(token),
        decision: 'allow',
        reason: 'allowed',
      },
    );
    assert.ok(typeof line.latencyMs === 'number' && line.latencyMs >= 0);
    assert.ok(!Number.isNaN(Date.parse(line.time)));
  });

  test('returns the decision id as a header to the client and the upstream on an allow', async () => {
    const response = await observed.client.check({ headers: bearer(await observed.token()) });
    const id = response.dynamic_metadata.fields.decision_id.stringValue;
    const header = (list: any[]) =>
      list.find((entry) => entry.header.key === 'x-tokengate-decision-id')?.header.value;

    assert.equal(header(response.ok_response.response_headers_to_add), id);
    assert.equal(header(response.ok_response.headers), id);
  });

  test('returns the decision id on a deny, in metadata, header and log line', async () => {
    const response = await observed.client.check({ headers: { 'x-request-id': 'req-deny' } });
    const id = response.dynamic_metadata.fields.decision_id.stringValue;
    const header = response.denied_response.headers.find(
      (entry: any) => entry.header.key === 'x-tokengate-decision-id',
    );

    assert.equal(header.header.value, id);
    const line = await observed.tokengate.waitForDecision((l) => l.requestId === 'req-deny');
    assert.equal(line.decisionId, id);
    assert.equal(line.reason, 'token_missing');
  });

  test('gives every decision its own id', async () => {
    const ids = new Set<string>();
    for (let i = 0; i < 5; i++) {
      const response = await observed.client.check();
      ids.add(response.dynamic_metadata.fields.decision_id.stringValue);
    }
    assert.equal(ids.size, 5);
  });
});

describe('audit options', () => {
  test('leaves the decision id header out by default but keeps the metadata', async () => {
    const observed = await startObserved();
    try {
      const response = await observed.client.check({ headers: bearer(await observed.token()) });
      assert.ok(isDecisionId(response.dynamic_metadata.fields.decision_id.stringValue));
      assert.deepEqual(response.ok_response.response_headers_to_add ?? [], []);
    } finally {
      await observed.stop();
    }
  });

  test('samples allows away at rate 0 and still logs every deny', async () => {
    const observed = await startObserved({ audit: { allowSampleRate: 0 } });
    try {
      const token = await observed.token();
      for (let i = 0; i < 3; i++) await observed.client.check({ headers: bearer(token) });
      await observed.client.check({ headers: { 'x-request-id': 'last' } });
      await observed.tokengate.waitForDecision((l) => l.requestId === 'last');

      const decisions = observed.tokengate.logs().filter((l) => l.msg === 'decision');
      assert.deepEqual(
        decisions.map((l) => l.decision),
        ['deny'],
      );
    } finally {
      await observed.stop();
    }
  });

  test('writes audit lines to a rotated file instead of stdout', async () => {
    const dir = tempDir('tokengate-audit-');
    const path = join(dir.path, 'audit', 'decisions.log');
    const observed = await startObserved({
      audit: { destination: { kind: 'file', path, maxSize: '1k', keep: 2 } },
    });
    try {
      const token = await observed.token();
      for (let i = 0; i < 12; i++) await observed.client.check({ headers: bearer(token) });
      await observed.stop();

      const files = readdirSync(join(dir.path, 'audit')).sort();
      assert.ok(files.length >= 2 && files.length <= 3, `files: ${files.join(', ')}`);
      const lines = files
        .flatMap((file) => readFileSync(join(dir.path, 'audit', file), 'utf8').split('\n'))
        .filter((text) => text !== '')
        .map((text) => JSON.parse(text));
      assert.ok(lines.length > 0 && lines.length <= 12);
      assert.ok(lines.every((l) => l.msg === 'decision' && isDecisionId(l.decisionId)));
      assert.equal(observed.tokengate.logs().filter((l) => l.msg === 'decision').length, 0);
    } finally {
      await observed.stop();
      dir.remove();
    }
  });
});
