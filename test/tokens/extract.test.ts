import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { extractBearer } from '../../src/tokens/extract.js';

const MAX = 8192;
const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl';

function codeOf(header: string, max = MAX): string | undefined {
  try {
    extractBearer(header, max);
    return undefined;
  } catch (error) {
    return (error as { code?: string }).code;
  }
}

describe('extractBearer', () => {
  test('returns the token of a well-formed Bearer header', () => {
    assert.equal(extractBearer(`Bearer ${TOKEN}`, MAX), TOKEN);
  });

  test('matches the scheme case-insensitively', () => {
    for (const scheme of ['bearer', 'BEARER', 'BeArEr']) {
      assert.equal(extractBearer(`${scheme} ${TOKEN}`, MAX), TOKEN, scheme);
    }
  });

  test('returns undefined when there is no header at all', () => {
    assert.equal(extractBearer(undefined, MAX), undefined);
    assert.equal(extractBearer('', MAX), undefined);
  });

  test('returns undefined for another scheme, even one that starts with "bearer"', () => {
    for (const header of ['Basic YWxpY2U6c2VjcmV0', 'DPoP abc', 'BearerToken abc', 'Bearer_x y']) {
      assert.equal(extractBearer(header, MAX), undefined, header);
    }
  });

  test('rejects the scheme without credentials as header_malformed', () => {
    assert.equal(codeOf('Bearer'), 'header_malformed');
    assert.equal(codeOf('Bearer '), 'header_malformed');
    assert.equal(codeOf('Bearer    '), 'header_malformed');
  });

  test('accepts several spaces between scheme and token', () => {
    assert.equal(extractBearer(`Bearer    ${TOKEN}`, MAX), TOKEN);
  });

  test('rejects a tab as the separator', () => {
    assert.equal(codeOf(`Bearer\t${TOKEN}`), 'header_malformed');
  });

  test('rejects more than one credential', () => {
    assert.equal(codeOf(`Bearer ${TOKEN} ${TOKEN}`), 'header_malformed');
  });

  test('rejects trailing garbage and trailing whitespace', () => {
    assert.equal(codeOf(`Bearer ${TOKEN} x`), 'header_malformed');
    assert.equal(codeOf(`Bearer ${TOKEN} `), 'header_malformed');
    assert.equal(codeOf(`Bearer ${TOKEN}\r\n`), 'header_malformed');
  });

  test('rejects repeated headers that Envoy joined with a comma', () => {
    assert.equal(codeOf(`Bearer ${TOKEN},Bearer ${TOKEN}`), 'header_malformed');
    assert.equal(codeOf(`Bearer ${TOKEN}, Bearer ${TOKEN}`), 'header_malformed');
  });

  test('accepts exactly the token68 character set, with padding only at the end', () => {
    assert.equal(extractBearer('Bearer aZ09-._~+/==', MAX), 'aZ09-._~+/==');
    for (const bad of ['a=b', 'ab"c', 'a;b', 'a\\b', 'é', '=abc', 'a%2Fb']) {
      assert.equal(codeOf(`Bearer ${bad}`), 'header_malformed', bad);
    }
  });

  test('rejects a token past the length cap with token_too_large', () => {
    assert.equal(extractBearer(`Bearer ${'a'.repeat(MAX)}`, MAX), 'a'.repeat(MAX));
    assert.equal(codeOf(`Bearer ${'a'.repeat(MAX + 1)}`), 'token_too_large');
  });

  test('checks the length before the syntax, so a huge garbage value is too large, not malformed', () => {
    assert.equal(codeOf(`Bearer ${'"'.repeat(MAX + 1)}`), 'token_too_large');
    assert.equal(codeOf(`Bearer ${'a '.repeat(MAX)}`, 256), 'token_too_large');
  });
});
