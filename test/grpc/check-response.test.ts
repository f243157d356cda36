import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { allow, deny, type Decision } from '../../src/decision/decision.js';
import { REASON_CODES, REASONS } from '../../src/decision/reasons.js';
import { DECISION_ID_HEADER, encodeCheckResponse } from '../../src/grpc/check-response.js';
import { authorizationService } from '../../src/grpc/protos.js';

type Response = Record<string, any>;

/** google.rpc.Code by HTTP status, as Envoy reads `CheckResponse.status`. */
const EXPECTED: Record<number, number> = { 400: 3, 401: 16, 403: 7, 500: 13, 503: 14 };

const check = authorizationService().Check!;
/** What Envoy reads from bytes: proto-loader's full decoder. */
const decode = (bytes: Buffer) => check.responseDeserialize(bytes) as Response;
/** The response tokengate sends for `decision`, as Envoy decodes it. */
const toCheckResponse = (decision: Decision) => decode(encodeCheckResponse(decision));

const headerOption = (key: string, value: string) => ({
  header: { key, value },
  append: { value: false },
});

/**
 * The response a decision must produce, spelled out as the object proto-loader encodes (protobufjs
 * names google.protobuf.Value's fields in camel case even under keepCase).
 */
function expectedResponse(decision: Decision): object {
  const idHeaders =
    decision.idHeader && decision.id !== undefined
      ? [headerOption(DECISION_ID_HEADER, decision.id)]
      : [];
  const dynamic_metadata =
    decision.id === undefined
      ? undefined
      : { fields: { decision_id: { stringValue: decision.id } } };
  if (decision.kind === 'allow') {
    return {
      status: { code: 0 },
      ok_response: {
        headers: [...decision.headersToSet.map(([k, v]) => headerOption(k, v)), ...idHeaders],
        headers_to_remove: decision.headersToRemove,
        response_headers_to_add: idHeaders,
      },
      dynamic_metadata,
    };
  }
  return {
    status: { code: EXPECTED[decision.status] ?? 13, message: decision.reason },
    denied_response: {
      status: { code: decision.status },
      headers: [...decision.responseHeaders.map(([k, v]) => headerOption(k, v)), ...idHeaders],
      body: decision.body,
    },
    dynamic_metadata,
  };
}

describe('the CheckResponse of a decision', () => {
  test('answers an allow with OK, the headers to set and the headers to remove', () => {
    const response = toCheckResponse(
      allow({ headersToSet: [['x-auth-subject', 'alice']], headersToRemove: ['x-auth-issuer'] }),
    ) as Response;
    assert.equal(response.status.code, 0);
    assert.equal(response.denied_response, undefined);
    assert.deepEqual(response.ok_response.headers[0], {
      header: { key: 'x-auth-subject', value: 'alice' },
      append: { value: false },
    });
    assert.deepEqual(response.ok_response.headers_to_remove, ['x-auth-issuer']);
  });

  test('answers a deny with the HTTP status, headers and body of the decision', () => {
    const decision = deny('token_expired', { realm: 'api' });
    const response = toCheckResponse(decision);
    assert.equal(response.ok_response, undefined);
    assert.equal(response.status.code, 16);
    assert.equal(response.status.message, 'token_expired');
    assert.equal(response.denied_response.status.code, 401);
    assert.equal(response.denied_response.body, decision.body);
    const challenge = response.denied_response.headers.find(
      (entry: Response) => entry.header.key === 'www-authenticate',
    );
    assert.match(challenge.header.value, /error="invalid_token"/);
    assert.deepEqual(challenge.append, { value: false });
  });

  test('maps every deny reason to the gRPC status code of its HTTP status', () => {
    for (const code of REASON_CODES) {
      const status = REASONS[code].status;
      if (status === 200) continue;
      const response = toCheckResponse(deny(code, { realm: 'r' }));
      assert.equal(response.status.code, EXPECTED[status], code);
      assert.equal(response.denied_response.status.code, status, code);
    }
  });
});

describe('encodeCheckResponse', () => {
  /** The reference: proto-loader's own encoding of the expected response object. */
  const reference = (decision: Decision) =>
    decode(check.responseSerialize(expectedResponse(decision)));

  const named = <T extends Decision>(decision: T, id?: string, idHeader = false): T =>
    Object.assign(decision, { id, idHeader });

  const cases: [string, Decision][] = [
    ['a bare allow', allow({})],
    [
      'an allow with headers to set and remove',
      allow({
        headersToSet: [
          ['x-auth-subject', 'alice'],
          ['x-auth-scopes', 'orders:read orders:write'],
          ['x-empty', ''],
        ],
        headersToRemove: ['x-auth-issuer', 'authorization'],
      }),
    ],
    [
      'an allow with non-ASCII and long values',
      allow({ headersToSet: [['x-auth-name', 'Zoë 名前 '.repeat(40)]] }),
    ],
    ['an allow with a decision id', named(allow({}), '01JDECISION0000000000000000')],
    [
      'an allow with the decision id header',
      named(allow({ headersToSet: [['x-a', 'b']] }), '01JDECISION0000000000000001', true),
    ],
    ['a 401 deny', deny('token_expired', { realm: 'api' })],
    [
      'a 403 insufficient_scope deny with an id header',
      named(
        deny('insufficient_scope', { realm: 'api', scope: 'orders:write' }),
        '01JDECISION0000000000000002',
        true,
      ),
    ],
    ['a 503 deny', deny('keys_unavailable', { realm: 'api' })],
  ];
  for (const code of REASON_CODES) {
    if (REASONS[code].status !== 200) cases.push([`deny ${code}`, deny(code, { realm: 'r' })]);
  }

  for (const [name, decision] of cases) {
    test(`decodes to what proto-loader encodes: ${name}`, () => {
      assert.deepEqual(decode(encodeCheckResponse(decision)), reference(decision));
    });
  }
});
