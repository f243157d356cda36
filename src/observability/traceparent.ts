/** W3C Trace Context `traceparent`: version, trace id, parent id, flags, in lower-case hex. */
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_PARENT = '0'.repeat(16);

/**
 * The trace id of a W3C `traceparent` header, or `undefined` when the header is absent or
 * invalid: version `ff`, an all-zero id, upper-case hex, or anything after the flags in a
 * version 00 header. Later versions may append fields, which are ignored as the spec asks.
 */
export function traceIdOf(header: string | undefined): string | undefined {
  if (header === undefined || header.length < 55 || header.length > 512) return undefined;

  const match = TRACEPARENT.exec(header.trim());
  if (match === null) return undefined;
  const [, version, traceId, parentId, , rest] = match;

  if (version === 'ff') return undefined;
  if (version === '00' && rest !== undefined) return undefined;
  if (traceId === ZERO_TRACE || parentId === ZERO_PARENT) return undefined;
  return traceId;
}
