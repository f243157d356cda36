import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, test } from 'node:test';
import { allow, deny } from '../../src/decision/decision.js';
import type { AuthzRequest } from '../../src/decision/request.js';
import { BATCH_LINES, DecisionLog, escaped } from '../../src/observability/decision-log.js';
import { createLogger } from '../../src/observability/logger.js';
import { AUDIT_FIELDS } from './fixture.js';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const text of String(chunk).split('\n')) if (text) lines.push(JSON.parse(text));
      done();
    },
  });
  return { lines, log: createLogger({ level: 'info', destination: stream }) };
}

const request: AuthzRequest = {
  id: 'req-1',
  method: 'POST',
  host: 'api.example.com',
  path: '/orders/7',
  headers: {
    authorization: 'Bearer secret-token',
    traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
  },
  source: { address: '10.0.0.5', port: 41000 },
  contextExtensions: {},
};

const verified = {
  issuer: 'corp',
  subject: 'alice',
  clientId: 'web',
  jti: 'jti-1',
  fingerprint: 'abcdef012345',
};

describe('decision audit log', () => {
  test('writes one line with every audit field for an allow', () => {
    const { lines, log } = capture();
    const decision = {
      ...allow({ caller: verified, origin: { policy: 'orders', rule: 'writers' } }),
      id: '01JABCDEFGHJKMNPQRSTVWXYZ0',
    };
    const sink = new DecisionLog(log);
    sink.record(request, decision, 0.000_412_5);
    sink.flush();

    assert.equal(lines.length, 1);
    const line = lines[0]!;
    for (const field of AUDIT_FIELDS) assert.ok(field in line, `missing ${field}`);
    assert.deepEqual(
      { ...line, time: undefined },
      {
        level: 'info',
        time: undefined,
        service: 'tokengate',
        msg: 'decision',
        decisionId: '01JABCDEFGHJKMNPQRSTVWXYZ0',
        requestId: 'req-1',
        traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
        source: '10.0.0.5',
        method: 'POST',
        host: 'api.example.com',
        path: '/orders/7',
        issuer: 'corp',
        subject: 'alice',
        clientId: 'web',
        fingerprint: 'abcdef012345',
        jti: 'jti-1',
        policy: 'orders',
        rule: 'writers',
        decision: 'allow',
        reason: 'allowed',
        status: 200,
        latencyMs: 0.413,
      },
    );
  });

  test('never writes a request header, not even the token', () => {
    const { lines, log } = capture();
    const sink = new DecisionLog(log);
    sink.record(request, allow({ caller: verified }), 0.001);
    sink.flush();
    assert.equal(lines.length, 1);
    assert.ok(!JSON.stringify(lines).includes('secret-token'));
    assert.ok(!JSON.stringify(lines).includes('authorization'));
  });

  test('logs no allows at a sample rate of 0 and still logs every deny', () => {
    const { lines, log } = capture();
    const sink = new DecisionLog(log, { allowSampleRate: 0 });
    for (let i = 0; i < 5; i++) sink.record(request, allow({ caller: verified }), 0.001);
    sink.record(request, deny('token_expired', { realm: 'r', caller: verified }), 0.001);
    sink.flush();

    assert.deepEqual(
      lines.map((line) => line.reason),
      ['token_expired'],
    );
  });

  test('writes lines in batches, at most 20 ms after the first line of a batch', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const { lines, log } = capture();
    const sink = new DecisionLog(log);
    for (let i = 0; i < 3; i++) sink.record({ ...request, id: `t${i}` }, allow(), 0.001);
    assert.equal(lines.length, 0);

    t.mock.timers.tick(19);
    assert.equal(lines.length, 0);
    t.mock.timers.tick(1);
    assert.deepEqual(
      lines.map((line) => line.requestId),
      ['t0', 't1', 't2'],
    );
  });

  test(`writes a batch at once when it has ${BATCH_LINES} lines`, (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const { lines, log } = capture();
    const sink = new DecisionLog(log);
    let recorded = 0;
    while (lines.length === 0 && recorded < 1_000) {
      sink.record({ ...request, id: `b${recorded}` }, allow(), 0.001);
      recorded += 1;
    }
    assert.equal(recorded, BATCH_LINES);
    assert.equal(lines.length, recorded);
    sink.flush();
    assert.equal(lines.length, recorded);
  });

  test('writes hostile values so that each line parses back to exactly what was asked', () => {
    const { lines, log } = capture();
    const sink = new DecisionLog(log);
    const values = [
      'plain-ascii /orders/7?x=1',
      'quote " and backslash \\ inside',
      'new\nline, tab\t, NUL \u0000 and DEL \u007f',
      '{"level":"error","msg":"forged"}',
      'Zoë, 名前, 🙂, \u2028 and \u2029',
      'lone surrogate \ud800 here',
      '',
    ];
    for (const [index, path] of values.entries()) {
      sink.record({ ...request, id: `h${index}`, path, host: path }, allow(), 0.001);
    }
    sink.flush();
    assert.deepEqual(
      lines.map((line) => [line.path, line.host]),
      values.map((value) => [value, value]),
    );
  });

  test('writes a batch as UTF-8 when any one of its values is not plain ASCII', () => {
    const { lines, log } = capture();
    const sink = new DecisionLog(log);
    const origin = { policy: 'commandes', rule: 'rédacteurs' };
    sink.record(request, allow({ caller: verified }), 0.001);
    sink.record(request, allow({ caller: { ...verified, subject: 'Zoë 名前 🙂' } }), 0.001);
    sink.flush();
    sink.record(request, allow({ caller: verified, origin }), 0.001);
    sink.flush();
    sink.record(request, allow({ caller: verified }), 0.001);
    sink.flush();
    assert.deepEqual(
      lines.map((line) => [line.subject, line.rule]),
      [
        ['alice', undefined],
        ['Zoë 名前 🙂', undefined],
        ['alice', 'rédacteurs'],
        ['alice', undefined],
      ],
    );
  });

  test('escapes every code unit, alone and paired, exactly as JSON.stringify does', () => {
    for (let unit = 0; unit <= 0xffff; unit += 1) {
      const alone = String.fromCharCode(unit);
      const inText = `a${alone}b`;
      assert.equal(escaped(alone), JSON.stringify(alone).slice(1, -1), `U+${unit.toString(16)}`);
      assert.equal(escaped(inText), JSON.stringify(inText).slice(1, -1), `U+${unit.toString(16)}`);
    }
    for (const text of ['🙂', '\ud83d\ude42\ud83d', '\ude42\ud83d', 'x\ud800\udc00"y']) {
      assert.equal(escaped(text), JSON.stringify(text).slice(1, -1));
    }
  });

  test('keeps every line whole when one value is larger than a batch', () => {
    const { lines, log } = capture();
    const sink = new DecisionLog(log);
    const huge = `/${'a'.repeat(100_000)}`;
    const hugeEscaped = `/${'"'.repeat(40_000)}`;
    sink.record({ ...request, id: 'before' }, allow(), 0.001);
    sink.record({ ...request, id: 'huge', path: huge }, allow(), 0.001);
    sink.record({ ...request, id: 'escaped', path: hugeEscaped }, allow(), 0.001);
    sink.record({ ...request, id: 'after' }, allow(), 0.001);
    sink.flush();
    assert.deepEqual(
      lines.map((line) => line.requestId),
      ['before', 'huge', 'escaped', 'after'],
    );
    assert.equal(lines[1]!.path, huge);
    assert.equal(lines[2]!.path, hugeEscaped);
  });

  test('logs the allows whose random draw falls under the sample rate', () => {
    const { lines, log } = capture();
    const draws = [0.1, 0.5, 0.24, 0.9];
    const sink = new DecisionLog(log, { allowSampleRate: 0.25, random: () => draws.shift()! });
    for (let i = 0; i < 4; i++) sink.record({ ...request, id: `r${i}` }, allow(), 0.001);
    sink.flush();

    assert.deepEqual(
      lines.map((line) => line.requestId),
      ['r0', 'r2'],
    );
  });

  test('leaves the trace id out when traceparent is invalid', () => {
    const { lines, log } = capture();
    const headers = { traceparent: 'not-a-traceparent' };
    const sink = new DecisionLog(log);
    sink.record({ ...request, headers }, allow(), 0.001);
    sink.flush();
    assert.equal(lines.length, 1);
    assert.equal(lines[0]!.traceId, undefined);
  });

  test('leaves out what a decision does not have: id, caller, policy', () => {
    const { lines, log } = capture();
    const sink = new DecisionLog(log);
    sink.record(request, deny('token_missing', { realm: 'r' }), 0.001);
    sink.flush();
    const line = lines[0]!;
    for (const name of [
      'decisionId',
      'issuer',
      'subject',
      'fingerprint',
      'jti',
      'policy',
      'rule',
    ]) {
      assert.equal(name in line, false, `${name} written`);
    }
    assert.equal(line.reason, 'token_missing');
  });
});
