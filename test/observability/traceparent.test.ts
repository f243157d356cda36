import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { traceIdOf } from '../../src/observability/traceparent.js';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT = '00f067aa0ba902b7';

describe('traceparent parsing', () => {
  test('returns the trace id of a valid version 00 header', () => {
    assert.equal(traceIdOf(`00-${TRACE}-${PARENT}-01`), TRACE);
  });

  test('accepts a later version with extra fields after the flags', () => {
    assert.equal(traceIdOf(`01-${TRACE}-${PARENT}-00-future`), TRACE);
  });

  test('ignores an absent header', () => {
    assert.equal(traceIdOf(undefined), undefined);
  });

  for (const [name, header] of [
    ['version ff', `ff-${TRACE}-${PARENT}-01`],
    ['an all-zero trace id', `00-${'0'.repeat(32)}-${PARENT}-01`],
    ['an all-zero parent id', `00-${TRACE}-${'0'.repeat(16)}-01`],
    ['upper-case hex', `00-${TRACE.toUpperCase()}-${PARENT}-01`],
    ['a short trace id', `00-${TRACE.slice(1)}-${PARENT}-01`],
    ['extra fields on version 00', `00-${TRACE}-${PARENT}-01-extra`],
    ['missing flags', `00-${TRACE}-${PARENT}`],
    ['non-hex characters', `00-${TRACE.slice(0, 31)}g-${PARENT}-01`],
    ['an oversized value', `01-${TRACE}-${PARENT}-01-${'a'.repeat(600)}`],
  ] as const) {
    test(`ignores a header with ${name}`, () => {
      assert.equal(traceIdOf(header), undefined);
    });
  }
});
