import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { allow, deny } from '../../src/decision/decision.js';
import { REASON_CODES, REASONS } from '../../src/decision/reasons.js';
import { toCheckResponse } from '../../src/grpc/check-response.js';

type Response = Record<string, any>;

/** google.rpc.Code by HTTP status, as Envoy reads `CheckResponse.status`. */
const EXPECTED: Record<number, number> = { 400: 3, 401: 16, 403: 7, 500: 13, 503: 14 };

describe('toCheckResponse', () => {
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
    const response = toCheckResponse(decision) as Response;
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
      const response = toCheckResponse(deny(code, { realm: 'r' })) as Response;
      assert.equal(response.status.code, EXPECTED[status], code);
      assert.equal(response.denied_response.status.code, status, code);
    }
  });
});
