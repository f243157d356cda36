import type { Decision } from '../decision/decision.js';

/** gRPC status codes used in `CheckResponse.status` (google.rpc.Code). */
const GRPC = {
  OK: 0,
  INVALID_ARGUMENT: 3,
  PERMISSION_DENIED: 7,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
};

function grpcCodeFor(status: number): number {
  if (status === 400) return GRPC.INVALID_ARGUMENT;
  if (status === 401) return GRPC.UNAUTHENTICATED;
  if (status === 403) return GRPC.PERMISSION_DENIED;
  if (status === 503) return GRPC.UNAVAILABLE;
  return GRPC.INTERNAL;
}

/** Name of the optional header that carries the decision id (`audit.decisionIdHeader`). */
export const DECISION_ID_HEADER = 'x-tokengate-decision-id';

/*
 * A decision's `CheckResponse`, written straight to protobuf bytes: protobufjs's `fromObject` plus
 * `encode` of a response object was about 6 % of a cached check's CPU time, and a response has
 * only these few fields. `test/grpc/check-response.test.ts` decodes what this writes with
 * proto-loader and compares it with proto-loader's own encoding of the response spelled out as
 * an object.
 *
 *   CheckResponse      1 status (google.rpc.Status: 1 code, 2 message)
 *                      2 denied_response (1 status (type.v3.HttpStatus: 1 code), 2 headers, 3 body)
 *                      3 ok_response (2 headers, 5 headers_to_remove, 6 response_headers_to_add)
 *                      4 dynamic_metadata (google.protobuf.Struct: 1 fields, map<string, Value>)
 *   HeaderValueOption  1 header (config.core.v3.HeaderValue: 1 key, 2 value), 2 append (BoolValue)
 *   Value              3 string_value
 *
 * Envoy files `dynamic_metadata` under the filter's namespace:
 * `envoy.filters.http.ext_authz:decision_id`.
 */

const LEN = 2;
const VARINT = 0;
const tag = (field: number, wire: number) => (field << 3) | wire;

function varintSize(value: number): number {
  let size = 1;
  while (value >= 0x80) {
    value >>>= 7;
    size += 1;
  }
  return size;
}

/** Size of a length-delimited field holding `length` bytes (the tag is one byte here). */
const fieldSize = (length: number) => 1 + varintSize(length) + length;

class Writer {
  readonly buf: Buffer;
  pos = 0;
  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }
  varint(value: number): void {
    while (value >= 0x80) {
      this.buf[this.pos++] = (value & 0x7f) | 0x80;
      value >>>= 7;
    }
    this.buf[this.pos++] = value;
  }
  /** A varint field. */
  uint(field: number, value: number): void {
    this.buf[this.pos++] = tag(field, VARINT);
    this.varint(value);
  }
  /** Tag and length of a length-delimited field. */
  open(field: number, length: number): void {
    this.buf[this.pos++] = tag(field, LEN);
    this.varint(length);
  }
  string(field: number, value: string, length: number): void {
    this.open(field, length);
    this.pos += this.buf.write(value, this.pos, 'utf8');
  }
}

interface Sized {
  key: string;
  keyLength: number;
  value: string;
  valueLength: number;
  /** HeaderValue size. */
  inner: number;
  /** HeaderValueOption size. */
  outer: number;
}

function sizeHeader(key: string, value: string): Sized {
  const keyLength = Buffer.byteLength(key);
  const valueLength = Buffer.byteLength(value);
  const inner = fieldSize(keyLength) + fieldSize(valueLength);
  // header (1) and `append` (2), a BoolValue of false: overwrite what the client sent.
  return { key, keyLength, value, valueLength, inner, outer: fieldSize(inner) + 4 };
}

function writeHeader(writer: Writer, field: number, header: Sized): void {
  writer.open(field, header.outer);
  writer.open(1, header.inner);
  writer.string(1, header.key, header.keyLength);
  writer.string(2, header.value, header.valueLength);
  writer.open(2, 2);
  writer.uint(1, 0);
}

/** The `CheckResponse` for `decision`, protobuf-encoded. */
export function encodeCheckResponse(decision: Decision): Buffer {
  const idHeader =
    decision.idHeader && decision.id !== undefined
      ? sizeHeader(DECISION_ID_HEADER, decision.id)
      : undefined;
  const headerSizes = (pairs: readonly (readonly [string, string])[]) => {
    const sized = pairs.map(([key, value]) => sizeHeader(key, value));
    if (idHeader !== undefined) sized.push(idHeader);
    return sized;
  };
  const sum = (headers: Sized[]) =>
    headers.reduce((total, header) => total + fieldSize(header.outer), 0);

  // google.rpc.Status
  const code = decision.kind === 'allow' ? GRPC.OK : grpcCodeFor(decision.status);
  const messageLength = decision.kind === 'deny' ? Buffer.byteLength(decision.reason) : 0;
  const statusSize =
    1 + varintSize(code) + (decision.kind === 'deny' ? fieldSize(messageLength) : 0);

  // denied_response or ok_response
  let bodySize: number;
  let headers: Sized[];
  let removals: { name: string; length: number }[] = [];
  let responseHeaders: Sized[] = [];
  let denyBody = '';
  let denyBodyLength = 0;
  let httpStatusSize = 0;
  if (decision.kind === 'allow') {
    headers = headerSizes(decision.headersToSet);
    removals = decision.headersToRemove.map((name) => ({ name, length: Buffer.byteLength(name) }));
    if (idHeader !== undefined) responseHeaders = [idHeader];
    bodySize =
      sum(headers) +
      removals.reduce((total, removal) => total + fieldSize(removal.length), 0) +
      sum(responseHeaders);
  } else {
    headers = headerSizes(decision.responseHeaders);
    denyBody = decision.body;
    denyBodyLength = Buffer.byteLength(denyBody);
    httpStatusSize = 1 + varintSize(decision.status);
    bodySize = fieldSize(httpStatusSize) + sum(headers) + fieldSize(denyBodyLength);
  }

  // google.protobuf.Struct { fields: { decision_id: { string_value } } }
  let idLength = 0;
  let valueSize = 0;
  let entrySize = 0;
  let structSize = 0;
  if (decision.id !== undefined) {
    idLength = Buffer.byteLength(decision.id);
    valueSize = fieldSize(idLength);
    entrySize = fieldSize('decision_id'.length) + fieldSize(valueSize);
    structSize = fieldSize(entrySize);
  }

  const writer = new Writer(
    fieldSize(statusSize) +
      fieldSize(bodySize) +
      (decision.id !== undefined ? fieldSize(structSize) : 0),
  );
  writer.open(1, statusSize);
  writer.uint(1, code);
  if (decision.kind === 'deny') writer.string(2, decision.reason, messageLength);

  if (decision.kind === 'allow') {
    writer.open(3, bodySize);
    for (const header of headers) writeHeader(writer, 2, header);
    for (const removal of removals) writer.string(5, removal.name, removal.length);
    for (const header of responseHeaders) writeHeader(writer, 6, header);
  } else {
    writer.open(2, bodySize);
    writer.open(1, httpStatusSize);
    writer.uint(1, decision.status);
    for (const header of headers) writeHeader(writer, 2, header);
    writer.string(3, denyBody, denyBodyLength);
  }

  if (decision.id !== undefined) {
    writer.open(4, structSize);
    writer.open(1, entrySize);
    writer.string(1, 'decision_id', 'decision_id'.length);
    writer.open(2, valueSize);
    writer.string(3, decision.id, idLength);
  }
  if (writer.pos !== writer.buf.length) {
    throw new Error(`CheckResponse encoding wrote ${writer.pos} of ${writer.buf.length} bytes`);
  }
  return writer.buf;
}
