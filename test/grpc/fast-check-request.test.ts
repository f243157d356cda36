import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { toAuthzRequest, type CheckRequestMessage } from '../../src/grpc/check-request.js';
import { CheckRequestDecodeError, decodeCheckRequest } from '../../src/grpc/fast-check-request.js';
import { authorizationService } from '../../src/grpc/protos.js';

const check = authorizationService().Check!;
const encode = (message: object): Buffer => check.requestSerialize(message);
const fullDecode = (buf: Buffer): CheckRequestMessage => check.requestDeserialize(buf);

/** The fields {@link toAuthzRequest} reads, without proto-loader's virtual oneof names. */
function project(message: CheckRequestMessage) {
  const attributes = message.attributes;
  const socket = attributes?.source?.address?.socket_address;
  const http = attributes?.request?.http;
  return {
    hasAttributes: attributes !== undefined,
    socket: socket && { address: socket.address, port_value: socket.port_value },
    hasAddress: attributes?.source?.address !== undefined,
    certificate: attributes?.source?.certificate,
    http: http && {
      id: http.id,
      method: http.method,
      headers: http.headers,
      path: http.path,
      host: http.host,
      header_map: http.header_map && {
        headers: http.header_map.headers?.map((entry) => ({
          key: entry.key,
          value: entry.value,
          raw_value: entry.raw_value && Buffer.from(entry.raw_value).toString('hex'),
        })),
      },
    },
    contextExtensions: attributes?.context_extensions,
  };
}

function assertSameAsFullDecoder(buf: Buffer): void {
  const full = fullDecode(buf);
  const fast = decodeCheckRequest(buf);
  assert.deepStrictEqual(project(fast), project(full));
  assert.deepStrictEqual(toAuthzRequest(fast), toAuthzRequest(full));
}

const FULL_REQUEST = {
  attributes: {
    source: {
      address: { socket_address: { address: '10.1.2.3', port_value: 51234 } },
      service: 'client-svc',
      labels: { team: 'a' },
      principal: 'spiffe://cluster.local/ns/a/sa/client',
      certificate: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
    },
    destination: {
      address: { socket_address: { address: '10.9.9.9', port_value: 8080 } },
      principal: 'spiffe://cluster.local/ns/b/sa/server',
    },
    request: {
      time: { seconds: 1_700_000_000, nanos: 5 },
      http: {
        id: '1234567890',
        method: 'POST',
        headers: {
          ':authority': 'api.example.com',
          ':path': '/orders/42?expand=items',
          authorization: 'Bearer abc.def.ghi',
          'x-request-id': 'req-1',
          'user-agent': 'curl/8 ünïcödé',
        },
        path: '/orders/42?expand=items',
        host: 'api.example.com',
        scheme: 'https',
        query: 'expand=items',
        fragment: 'top',
        size: 12,
        protocol: 'HTTP/2',
        body: '{"a":1}',
        raw_body: Buffer.from([0, 1, 2, 255]),
      },
    },
    context_extensions: { 'tokengate.policy': 'orders', other: 'x' },
    metadata_context: { filter_metadata: { a: { fields: { b: { string_value: 'c' } } } } },
    tls_session: { sni: 'api.example.com' },
  },
};

/** A protobuf tag for `field` with `wireType`, as a varint byte sequence. */
function tag(field: number, wireType: number): Buffer {
  return varint(field * 8 + wireType);
}

function varint(value: number): Buffer {
  const bytes: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    bytes.push((rest % 0x80) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}

function lengthDelimited(field: number, body: Buffer): Buffer {
  return Buffer.concat([tag(field, 2), varint(body.length), body]);
}

/** One of every wire type under field numbers no schema here uses. */
const UNKNOWN_FIELDS = Buffer.concat([
  tag(900, 0),
  varint(2 ** 40),
  tag(901, 1),
  Buffer.alloc(8, 7),
  lengthDelimited(902, Buffer.from('ignored')),
  tag(903, 3),
  tag(1, 0),
  varint(5),
  tag(903, 4),
  tag(904, 5),
  Buffer.alloc(4, 9),
]);

/** A small deterministic PRNG so a failing case can be replayed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1_664_525 + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

function decodesOrRejects(buf: Buffer): void {
  let fast: CheckRequestMessage;
  try {
    fast = decodeCheckRequest(buf);
  } catch (error) {
    assert.ok(error instanceof CheckRequestDecodeError, `unexpected ${String(error)}`);
    return;
  }

  // Fields a check never reads are skipped by length without being decoded, so damage inside
  // them can pass here while the full decoder rejects it; whatever both accept must agree.
  let full: CheckRequestMessage | undefined;
  try {
    full = fullDecode(buf);
  } catch {
    full = undefined;
  }
  if (full !== undefined) assert.deepStrictEqual(project(fast), project(full));
  assert.doesNotThrow(() => toAuthzRequest(fast));
}

describe('fast CheckRequest decoder', () => {
  test('decodes every field a check reads exactly as the full proto-loader decoder does', () => {
    assertSameAsFullDecoder(encode(FULL_REQUEST));
    const fast = decodeCheckRequest(encode(FULL_REQUEST));
    assert.equal(fast.attributes?.request?.http?.headers?.authorization, 'Bearer abc.def.ghi');
    assert.equal(fast.attributes?.source?.address?.socket_address?.port_value, 51234);
  });

  test('decodes header_map entries, raw values and repeated names like the full decoder', () => {
    const buf = encode({
      attributes: {
        request: {
          http: {
            method: 'GET',
            path: '/',
            header_map: {
              headers: [
                { key: ':authority', value: 'a.example' },
                { key: 'Authorization', raw_value: Buffer.from('Bearer raw.tok.en') },
                { key: 'x-multi', raw_value: Buffer.from('one') },
                { key: 'x-multi', value: 'two' },
                { key: 'x-latin', raw_value: Buffer.from([0x63, 0xe9]) },
                { value: 'no key' },
              ],
            },
          },
        },
      },
    });
    assertSameAsFullDecoder(buf);
    assert.equal(
      toAuthzRequest(decodeCheckRequest(buf)).headers.authorization,
      'Bearer raw.tok.en',
    );
  });

  test('decodes an empty message and empty sub-messages like the full decoder', () => {
    assertSameAsFullDecoder(Buffer.alloc(0));
    assertSameAsFullDecoder(encode({ attributes: {} }));
    assertSameAsFullDecoder(
      encode({ attributes: { source: { address: {} }, request: { http: {} } } }),
    );
    assertSameAsFullDecoder(
      encode({ attributes: { request: { http: { header_map: {}, headers: {} } } } }),
    );
  });

  test('skips unknown fields of every wire type at every level', () => {
    const http = Buffer.concat([
      lengthDelimited(2, Buffer.from('GET')),
      UNKNOWN_FIELDS,
      lengthDelimited(4, Buffer.from('/x')),
      lengthDelimited(3, Buffer.concat([lengthDelimited(1, Buffer.from('k')), UNKNOWN_FIELDS])),
    ]);
    const request = Buffer.concat([UNKNOWN_FIELDS, lengthDelimited(2, http)]);
    const attributes = Buffer.concat([lengthDelimited(4, request), UNKNOWN_FIELDS]);
    const buf = Buffer.concat([UNKNOWN_FIELDS, lengthDelimited(1, attributes), UNKNOWN_FIELDS]);

    assertSameAsFullDecoder(buf);
    const fast = decodeCheckRequest(buf);
    assert.equal(fast.attributes?.request?.http?.path, '/x');
    assert.deepEqual(fast.attributes?.request?.http?.headers, { k: '' });
  });

  test('keeps the last value of a repeated map key and of a repeated scalar, as protobuf does', () => {
    const entry = (key: string, value: string) =>
      lengthDelimited(
        3,
        Buffer.concat([
          lengthDelimited(1, Buffer.from(key)),
          lengthDelimited(2, Buffer.from(value)),
        ]),
      );
    const http = Buffer.concat([
      entry('a', '1'),
      entry('a', '2'),
      lengthDelimited(4, Buffer.from('/first')),
      lengthDelimited(4, Buffer.from('/second')),
    ]);
    const buf = lengthDelimited(1, lengthDelimited(4, lengthDelimited(2, http)));
    assertSameAsFullDecoder(buf);
    assert.equal(decodeCheckRequest(buf).attributes?.request?.http?.path, '/second');
  });

  test('rejects every truncation of a valid request with a decode error', () => {
    const buf = encode(FULL_REQUEST);
    for (let length = 1; length < buf.length; length++) {
      assert.throws(
        () => decodeCheckRequest(buf.subarray(0, length)),
        CheckRequestDecodeError,
        `prefix of ${length} bytes`,
      );
    }
  });

  test('rejects a known field sent with the wrong wire type', () => {
    const buf = Buffer.concat([tag(1, 0), varint(3)]);
    assert.throws(() => decodeCheckRequest(buf), CheckRequestDecodeError);
    const http = Buffer.concat([tag(4, 0), varint(1)]);
    assert.throws(
      () => decodeCheckRequest(lengthDelimited(1, lengthDelimited(4, lengthDelimited(2, http)))),
      CheckRequestDecodeError,
    );
  });

  test('rejects over-long varints, bad wire types, stray end groups and deep groups', () => {
    const cases = [
      Buffer.from([0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]),
      Buffer.from([0x0e]),
      Buffer.from([0x0f]),
      Buffer.from([0x0c]),
      Buffer.from([0x02, 0x00]),
      Buffer.concat(Array.from({ length: 40 }, () => tag(5, 3))),
      Buffer.concat([tag(1, 2), varint(2 ** 31)]),
    ];
    for (const buf of cases) {
      assert.throws(() => decodeCheckRequest(buf), CheckRequestDecodeError, buf.toString('hex'));
    }
  });

  test('never throws anything but a decode error on random or mutated bytes', () => {
    const next = random(7);
    const valid = encode(FULL_REQUEST);
    for (let round = 0; round < 10_000; round++) {
      const buf =
        round % 2 === 0
          ? Buffer.from(
              Array.from({ length: Math.floor(next() * 64) }, () => Math.floor(next() * 256)),
            )
          : Buffer.from(valid);
      if (round % 2 === 1) {
        for (let flips = 1 + Math.floor(next() * 4); flips > 0; flips--) {
          buf[Math.floor(next() * buf.length)] = Math.floor(next() * 256);
        }
      }
      decodesOrRejects(buf);
    }
  });
});
