import { TokengateError } from '../decision/errors.js';

const BASE64URL = /^[A-Za-z0-9_-]+$/;
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** The parts of a compact JWS read before any signature is checked. Nothing here is trusted. */
export interface UnverifiedJws {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  /** `header.payload` as sent: the bytes the signature covers. */
  signingInput: string;
  signature: Buffer;
}

/** A compact JWS after the strict shape checks: the header object and the raw payload bytes. */
export interface CompactJwsParts {
  header: Record<string, unknown>;
  payload: Buffer;
  signingInput: string;
  signature: Buffer;
}

/**
 * The JWS layer of {@link parseCompactJws}: exactly three segments of canonical, unpadded
 * base64url (the payload may be empty), a JSON object header with a string `alg`, and no `crit`
 * header. The payload is returned as bytes, whatever they hold.
 */
export function readCompactJws(token: string): CompactJwsParts {
  const first = token.indexOf('.');
  const second = token.indexOf('.', first + 1);
  if (first <= 0 || second === -1 || token.indexOf('.', second + 1) !== -1) {
    throw new TokengateError('token_malformed', 'expected three dot-separated segments');
  }
  if (second === token.length - 1) {
    throw new TokengateError('token_malformed', 'token has an empty signature');
  }

  const header = toObject(checkCanonical(token.slice(0, first), 'header'), 'header');
  const payloadSegment = token.slice(first + 1, second);
  const payload =
    payloadSegment === '' ? Buffer.alloc(0) : checkCanonical(payloadSegment, 'payload');
  const signature = checkCanonical(token.slice(second + 1), 'signature');

  if ('crit' in header) throw new TokengateError('crit_unsupported');
  if (typeof header.alg !== 'string') {
    throw new TokengateError('token_malformed', 'header "alg" is missing or not a string');
  }
  return { header, payload, signingInput: token.slice(0, second), signature };
}

/**
 * Parses a compact JWS strictly: exactly three segments of canonical, unpadded base64url, a JSON
 * object in the header and in the payload, and no `crit` header. jose accepts some inputs this
 * rejects (padding, non-canonical trailing bits), which would let one token have many spellings.
 */
export function parseCompactJws(token: string): UnverifiedJws {
  const parts = readCompactJws(token);
  return { ...parts, payload: toObject(parts.payload, 'payload') };
}

function toObject(bytes: Buffer, name: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(UTF8.decode(bytes));
  } catch {
    throw new TokengateError('token_malformed', `${name} is not UTF-8 JSON`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TokengateError('token_malformed', `${name} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}

function checkCanonical(segment: string, name: string): Buffer {
  if (!BASE64URL.test(segment) || segment.length % 4 === 1) {
    throw new TokengateError('token_malformed', `${name} is not unpadded base64url`);
  }
  const bytes = Buffer.from(segment, 'base64url');
  if (bytes.toString('base64url') !== segment) {
    throw new TokengateError('token_malformed', `${name} is not canonical base64url`);
  }
  return bytes;
}
