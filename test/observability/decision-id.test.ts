import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isDecisionId, newDecisionId } from '../../src/observability/decision-id.js';

describe('decision ids', () => {
  test('have the 26-character ULID shape', () => {
    assert.ok(isDecisionId(newDecisionId()));
    assert.equal(newDecisionId().length, 26);
  });

  test('encode the time so that later ids sort after earlier ones', () => {
    const earlier = newDecisionId(Date.UTC(2026, 0, 1));
    const later = newDecisionId(Date.UTC(2026, 0, 1, 0, 0, 1));
    assert.ok(earlier < later);
    assert.equal(newDecisionId(0).slice(0, 10), '0000000000');
  });

  test('do not repeat across many draws, including across a pool refill', () => {
    const ids = new Set<string>();
    for (let i = 0; i < 10_000; i++) ids.add(newDecisionId(1_700_000_000_000));
    assert.equal(ids.size, 10_000);
  });
});
