import { TokengateError } from '../decision/errors.js';

/** RFC 7235 token68; RFC 6750 §2.1 b64token is the same set. */
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/;
/** RFC 9110 tchar: a character that may continue an auth-scheme name. */
const TCHAR = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]$/;

/**
 * Reads the bearer token of an `Authorization` header value (RFC 6750 §2.1).
 *
 * Returns `undefined` when the request carries no bearer credentials at all (no header, or
 * another scheme), which is a challenge without an error code. Throws `header_malformed` for a
 * Bearer header that is not exactly one token68, and `token_too_large` past `maxLength`
 * characters, before anything is decoded.
 */
export function extractBearer(header: string | undefined, maxLength: number): string | undefined {
  if (header === undefined || header === '') return undefined;

  if (header.length < 6 || header.slice(0, 6).toLowerCase() !== 'bearer') return undefined;
  // Another scheme that merely starts with the letters "bearer" (`BearerToken x`) is not ours.
  if (header.length > 6 && TCHAR.test(header[6]!)) return undefined;
  if (header.length === 6 || header[6] !== ' ') throw new TokengateError('header_malformed');

  const credentials = header.slice(7).replace(/^ +/, '');
  if (credentials.length > maxLength) throw new TokengateError('token_too_large');
  if (!TOKEN68.test(credentials)) throw new TokengateError('header_malformed');
  return credentials;
}
