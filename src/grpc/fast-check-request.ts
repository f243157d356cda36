import type * as grpc from '@grpc/grpc-js';
import type { CheckRequestMessage } from './check-request.js';
import { encodeCheckResponse } from './check-response.js';
import type { Decision } from '../decision/decision.js';

/** Thrown for bytes that are not a well-formed `CheckRequest`; grpc-js answers INTERNAL. */
export class CheckRequestDecodeError extends Error {
  override readonly name = 'CheckRequestDecodeError';
}

type HeaderEntry = { key?: string; value?: string; raw_value?: Buffer };
type Source = NonNullable<NonNullable<CheckRequestMessage['attributes']>['source']>;
type Http = NonNullable<
  NonNullable<NonNullable<CheckRequestMessage['attributes']>['request']>['http']
>;

const VARINT = 0;
const FIXED64 = 1;
const BYTES = 2;
const START_GROUP = 3;
const END_GROUP = 4;
const FIXED32 = 5;
const MAX_GROUP_DEPTH = 32;

/**
 * A protobuf reader over one buffer that only moves forward and checks every bound: a length
 * past the end, an over-long varint or an unknown wire type is a {@link CheckRequestDecodeError}.
 */
class Reader {
  pos = 0;

  constructor(readonly buf: Buffer) {}

  varint32(): number {
    let value = 0;
    let shift = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.buf.length) throw new CheckRequestDecodeError('truncated varint');
      const byte = this.buf[this.pos++]!;
      if (shift < 32) value |= (byte & 0x7f) << shift;
      shift += 7;
      if (byte < 0x80) return value >>> 0;
    }
    throw new CheckRequestDecodeError('varint longer than 10 bytes');
  }

  /** The end offset of a length-delimited field that starts here. */
  lengthEnd(limit: number): number {
    const length = this.varint32();
    const end = this.pos + length;
    if (end > limit) throw new CheckRequestDecodeError('length past the end of its message');
    return end;
  }

  string(limit: number): string {
    const end = this.lengthEnd(limit);
    const text = this.buf.toString('utf8', this.pos, end);
    this.pos = end;
    return text;
  }

  bytes(limit: number): Buffer {
    const end = this.lengthEnd(limit);
    const bytes = this.buf.subarray(this.pos, end);
    this.pos = end;
    return bytes;
  }

  skip(wireType: number, limit: number, depth = 0): void {
    if (wireType === VARINT) this.varint32();
    else if (wireType === FIXED64) this.advance(8, limit);
    else if (wireType === FIXED32) this.advance(4, limit);
    else if (wireType === BYTES) this.pos = this.lengthEnd(limit);
    else if (wireType === START_GROUP) this.skipGroup(limit, depth + 1);
    else throw new CheckRequestDecodeError(`unexpected wire type ${wireType}`);
  }

  private advance(count: number, limit: number): void {
    if (this.pos + count > limit) throw new CheckRequestDecodeError('truncated fixed field');
    this.pos += count;
  }

  private skipGroup(limit: number, depth: number): void {
    if (depth > MAX_GROUP_DEPTH) throw new CheckRequestDecodeError('groups nested too deep');
    for (;;) {
      if (this.pos >= limit) throw new CheckRequestDecodeError('unterminated group');
      const tag = this.varint32();
      if ((tag & 7) === END_GROUP) return;
      this.skip(tag & 7, limit, depth);
    }
  }
}

/**
 * Wire types of every field of the messages read here, used ones or not: protobuf.js trusts the
 * field number and ignores the wire type, so a mismatch is rejected rather than read two ways.
 */
const B = BYTES;
const V = VARINT;
const KNOWN = {
  checkRequest: [, B],
  attributes: [, B, B, , B, , , , , , B, B, B, B],
  peer: [, B, B, B, B, B],
  address: [, B, B, B],
  socket: [, V, B, V, B, B, V],
  request: [, B, B],
  http: [, B, B, B, B, B, B, B, B, V, B, B, B, B],
  headerMap: [, B],
  headerValue: [, B, B, B],
  mapEntry: [, B, B],
} satisfies Record<string, (number | undefined)[]>;

/** Skips a field this decoder does not read, after checking its wire type against the schema. */
function skipField(reader: Reader, tag: number, end: number, known: (number | undefined)[]): void {
  const wireType = known[tag >>> 3];
  if (wireType !== undefined) expect(tag, wireType);
  reader.skip(tag & 7, end);
}

/** Reads the next tag and checks that a known field has the wire type its schema gives. */
function expect(tag: number, wireType: number): void {
  if ((tag & 7) !== wireType) {
    throw new CheckRequestDecodeError(`field ${tag >>> 3} has wire type ${tag & 7}`);
  }
}

/** Runs `onField(fieldNumber, tag)` for each field until `end`; unknown ones are its to skip. */
function fields(reader: Reader, end: number, onField: (field: number, tag: number) => void): void {
  while (reader.pos < end) {
    const tag = reader.varint32();
    if (tag >>> 3 === 0) throw new CheckRequestDecodeError('field number 0');
    if ((tag & 7) === END_GROUP) throw new CheckRequestDecodeError('unexpected end of group');
    onField(tag >>> 3, tag);
  }
  if (reader.pos !== end) throw new CheckRequestDecodeError('field runs past its message');
}

/** A `map<string, string>` entry, merged into `into` as protobuf.js does (last key wins). */
function mapEntry(reader: Reader, limit: number, into: Record<string, string>): void {
  const end = reader.lengthEnd(limit);
  let key = '';
  let value = '';
  fields(reader, end, (field, tag) => {
    if (field === 1) {
      expect(tag, BYTES);
      key = reader.string(end);
    } else if (field === 2) {
      expect(tag, BYTES);
      value = reader.string(end);
    } else skipField(reader, tag, end, KNOWN.mapEntry);
  });
  // A `__proto__` key cannot be an own property of a plain object; protobuf.js drops it too.
  if (key !== '__proto__') into[key] = value;
}

function headerValue(reader: Reader, limit: number): HeaderEntry {
  const end = reader.lengthEnd(limit);
  const entry: HeaderEntry = {};
  fields(reader, end, (field, tag) => {
    if (field === 1) {
      expect(tag, BYTES);
      entry.key = reader.string(end);
    } else if (field === 2) {
      expect(tag, BYTES);
      entry.value = reader.string(end);
    } else if (field === 3) {
      expect(tag, BYTES);
      entry.raw_value = reader.bytes(end);
    } else skipField(reader, tag, end, KNOWN.headerValue);
  });
  return entry;
}

function headerMap(reader: Reader, limit: number): { headers?: HeaderEntry[] } {
  const end = reader.lengthEnd(limit);
  const headers: HeaderEntry[] = [];
  fields(reader, end, (field, tag) => {
    if (field === 1) {
      expect(tag, BYTES);
      headers.push(headerValue(reader, end));
    } else skipField(reader, tag, end, KNOWN.headerMap);
  });
  return headers.length > 0 ? { headers } : {};
}

function socketAddress(reader: Reader, limit: number): { address?: string; port_value?: number } {
  const end = reader.lengthEnd(limit);
  const socket: { address?: string; port_value?: number } = {};
  fields(reader, end, (field, tag) => {
    if (field === 2) {
      expect(tag, BYTES);
      socket.address = reader.string(end);
    } else if (field === 3) {
      expect(tag, VARINT);
      socket.port_value = reader.varint32();
    } else skipField(reader, tag, end, KNOWN.socket);
  });
  return socket;
}

function peer(reader: Reader, limit: number): Source {
  const end = reader.lengthEnd(limit);
  const source: Source = {};
  fields(reader, end, (field, tag) => {
    if (field === 1) {
      expect(tag, BYTES);
      const addressEnd = reader.lengthEnd(end);
      const address: NonNullable<Source['address']> = {};
      fields(reader, addressEnd, (inner, innerTag) => {
        if (inner === 1) {
          expect(innerTag, BYTES);
          address.socket_address = socketAddress(reader, addressEnd);
        } else skipField(reader, innerTag, addressEnd, KNOWN.address);
      });
      source.address = address;
    } else if (field === 5) {
      expect(tag, BYTES);
      source.certificate = reader.string(end);
    } else skipField(reader, tag, end, KNOWN.peer);
  });
  return source;
}

function httpRequest(reader: Reader, limit: number): Http {
  const end = reader.lengthEnd(limit);
  const http: Http = {};
  let headers: Record<string, string> | undefined;
  fields(reader, end, (field, tag) => {
    if (field === 1) {
      expect(tag, BYTES);
      http.id = reader.string(end);
    } else if (field === 2) {
      expect(tag, BYTES);
      http.method = reader.string(end);
    } else if (field === 3) {
      expect(tag, BYTES);
      mapEntry(reader, end, (headers ??= {}));
    } else if (field === 4) {
      expect(tag, BYTES);
      http.path = reader.string(end);
    } else if (field === 5) {
      expect(tag, BYTES);
      http.host = reader.string(end);
    } else if (field === 13) {
      expect(tag, BYTES);
      http.header_map = headerMap(reader, end);
    } else skipField(reader, tag, end, KNOWN.http);
  });
  if (headers !== undefined && Object.keys(headers).length > 0) http.headers = headers;
  return http;
}

/**
 * Decodes the parts of an Envoy `CheckRequest` that {@link toAuthzRequest} reads, straight from
 * the wire, into the same shape `@grpc/proto-loader` produces with the project's loader options;
 * every other field is skipped without being decoded. Malformed input throws a
 * {@link CheckRequestDecodeError}.
 */
export function decodeCheckRequest(buf: Buffer): CheckRequestMessage {
  const reader = new Reader(buf);
  const message: CheckRequestMessage = {};

  fields(reader, buf.length, (field, tag) => {
    if (field !== 1) return skipField(reader, tag, buf.length, KNOWN.checkRequest);
    expect(tag, BYTES);

    const end = reader.lengthEnd(buf.length);
    const attributes: NonNullable<CheckRequestMessage['attributes']> = {};
    let extensions: Record<string, string> | undefined;
    fields(reader, end, (inner, innerTag) => {
      if (inner === 1) {
        expect(innerTag, BYTES);
        attributes.source = peer(reader, end);
      } else if (inner === 4) {
        expect(innerTag, BYTES);
        const requestEnd = reader.lengthEnd(end);
        const request: NonNullable<typeof attributes.request> = {};
        fields(reader, requestEnd, (part, partTag) => {
          if (part === 2) {
            expect(partTag, BYTES);
            request.http = httpRequest(reader, requestEnd);
          } else skipField(reader, partTag, requestEnd, KNOWN.request);
        });
        attributes.request = request;
      } else if (inner === 10) {
        expect(innerTag, BYTES);
        mapEntry(reader, end, (extensions ??= {}));
      } else skipField(reader, innerTag, end, KNOWN.attributes);
    });
    if (extensions !== undefined && Object.keys(extensions).length > 0) {
      attributes.context_extensions = extensions;
    }
    message.attributes = attributes;
  });
  return message;
}

/**
 * The ext_authz service definition with {@link decodeCheckRequest} as the Check request
 * deserializer and {@link encodeCheckResponse} as the response serializer: the handler answers
 * with a {@link Decision}.
 */
export function withFastCheckCodec(service: grpc.ServiceDefinition): grpc.ServiceDefinition {
  const check = service.Check;
  if (check === undefined) throw new Error('service has no Check method');
  return {
    ...service,
    Check: {
      ...check,
      requestDeserialize: decodeCheckRequest,
      responseSerialize: encodeCheckResponse as (value: unknown) => Buffer,
    },
  };
}
