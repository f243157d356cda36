import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { toAuthzRequest } from '../../src/grpc/check-request.js';

describe('toAuthzRequest', () => {
  const base = {
    attributes: {
      source: {
        address: { socket_address: { address: '10.0.0.7', port_value: 51234 } },
        certificate: '-----BEGIN%20CERTIFICATE-----',
      },
      request: {
        http: {
          id: 'envoy-id',
          method: 'POST',
          path: '/orders/1?token=secret&x=1',
          host: 'api.example.com',
          headers: { 'x-request-id': 'req-1', authorization: 'Bearer abc', ':authority': 'other' },
        },
      },
      context_extensions: { route: 'orders' },
    },
  };

  test('maps method, host, headers, source and context extensions', () => {
    const request = toAuthzRequest(base);
    assert.equal(request.method, 'POST');
    assert.equal(request.host, 'api.example.com');
    assert.equal(request.headers.authorization, 'Bearer abc');
    assert.deepEqual(request.source, {
      address: '10.0.0.7',
      port: 51234,
      certificate: '-----BEGIN%20CERTIFICATE-----',
    });
    assert.deepEqual(request.contextExtensions, { route: 'orders' });
  });

  test('keeps the path without the query string or fragment', () => {
    assert.equal(toAuthzRequest(base).path, '/orders/1');
    const withFragment = structuredClone(base);
    withFragment.attributes.request.http.path = '/a/b#frag?x';
    assert.equal(toAuthzRequest(withFragment).path, '/a/b');
  });

  test("prefers x-request-id over Envoy's own request id", () => {
    assert.equal(toAuthzRequest(base).id, 'req-1');
    const noHeader = structuredClone(base);
    delete (noHeader.attributes.request.http.headers as Record<string, string>)['x-request-id'];
    assert.equal(toAuthzRequest(noHeader).id, 'envoy-id');
  });

  test('falls back to :authority when host is absent', () => {
    const noHost = structuredClone(base);
    delete (noHost.attributes.request.http as { host?: string }).host;
    assert.equal(toAuthzRequest(noHost).host, 'other');
  });

  test('reads the header_map variant, raw values first, names lower-cased, repeats joined', () => {
    const request = toAuthzRequest({
      attributes: {
        request: {
          http: {
            path: '/x',
            header_map: {
              headers: [
                { key: 'Authorization', raw_value: Buffer.from('Bearer raw') },
                { key: 'X-Request-Id', value: 'from-map' },
                { key: 'x-multi', value: 'a' },
                { key: 'X-Multi', value: 'b' },
                { value: 'nameless' },
              ],
            },
          },
        },
      },
    });
    assert.equal(request.headers.authorization, 'Bearer raw');
    assert.equal(request.id, 'from-map');
    assert.equal(request.headers['x-multi'], 'a,b');
    assert.equal(Object.keys(request.headers).length, 3);
  });

  test('turns an empty request into empty fields instead of throwing', () => {
    const request = toAuthzRequest({});
    assert.deepEqual(request, {
      id: '',
      method: '',
      host: '',
      path: '',
      headers: {},
      source: { address: '' },
      contextExtensions: {},
    });
  });
});
