import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkTimeClaims, type TimeRules } from '../../src/tokens/time-claims.js';

const NOW_S = 1_800_000_000;
const NOW = NOW_S * 1000;
const SKEW: TimeRules = { clockSkew: 30_000 };
const NO_SKEW: TimeRules = { clockSkew: 0 };

function codeOf(claims: Record<string, unknown>, now: number, rules: TimeRules) {
  try {
    checkTimeClaims(claims, now, rules);
    return undefined;
  } catch (error) {
    return (error as { code?: string }).code;
  }
}

describe('checkTimeClaims', () => {
  test('requires exp', () => {
    assert.equal(codeOf({ iat: NOW_S }, NOW, SKEW), 'claim_missing');
  });

  test('rejects an exp that is not a finite number', () => {
    for (const exp of [`${NOW_S + 60}`, null, true, [NOW_S + 60], { n: 1 }]) {
      assert.equal(codeOf({ exp }, NOW, SKEW), 'claim_invalid', JSON.stringify(exp));
    }
  });

  test('accepts a token until exp plus skew and rejects it from that instant', () => {
    assert.equal(codeOf({ exp: NOW_S - 30 }, NOW - 1, SKEW), undefined);
    assert.equal(codeOf({ exp: NOW_S - 30 }, NOW, SKEW), 'token_expired');
    assert.equal(codeOf({ exp: NOW_S }, NOW - 1, NO_SKEW), undefined);
    assert.equal(codeOf({ exp: NOW_S }, NOW, NO_SKEW), 'token_expired');
  });

  test('rejects a token before nbf minus skew', () => {
    assert.equal(codeOf({ exp: NOW_S + 600, nbf: NOW_S + 30 }, NOW, SKEW), undefined);
    assert.equal(
      codeOf({ exp: NOW_S + 600, nbf: NOW_S + 30 }, NOW - 1, SKEW),
      'token_not_yet_valid',
    );
    assert.equal(codeOf({ exp: NOW_S + 600, nbf: NOW_S }, NOW - 1, NO_SKEW), 'token_not_yet_valid');
  });

  test('rejects a token issued after now plus skew', () => {
    assert.equal(codeOf({ exp: NOW_S + 600, iat: NOW_S + 30 }, NOW, SKEW), undefined);
    assert.equal(
      codeOf({ exp: NOW_S + 600, iat: NOW_S + 30 }, NOW - 1, SKEW),
      'token_issued_in_future',
    );
  });

  test('rejects an nbf or iat that is not a number', () => {
    assert.equal(codeOf({ exp: NOW_S + 60, nbf: 'soon' }, NOW, SKEW), 'claim_invalid');
    assert.equal(codeOf({ exp: NOW_S + 60, iat: 'then' }, NOW, SKEW), 'claim_invalid');
  });

  test('applies maxTokenAge from iat, with the skew', () => {
    const rules: TimeRules = { clockSkew: 30_000, maxTokenAge: 3_600_000 };
    const iat = NOW_S - 3_600 - 30;
    assert.equal(codeOf({ exp: NOW_S + 60, iat }, NOW, rules), undefined);
    assert.equal(codeOf({ exp: NOW_S + 60, iat }, NOW + 1, rules), 'token_too_old');
  });

  test('requires iat when maxTokenAge is set', () => {
    const rules: TimeRules = { clockSkew: 0, maxTokenAge: 3_600_000 };
    assert.equal(codeOf({ exp: NOW_S + 60 }, NOW, rules), 'claim_missing');
  });
});
