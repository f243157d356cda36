import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseCompactJws, readCompactJws } from '../../src/tokens/compact-jws.js';
import { b64 } from '../support/tokens.js';

const HEADER = b64({ alg: 'RS256', kid: 'k1' });
const PAYLOAD = b64({ iss: 'https://issuer.test/', sub: 'alice' });
const SIG = b64('signature-bytes');

function codeOf(token: string): string | undefined {
  try {
    parseCompactJws(token);
    return undefined;
  } catch (error) {
    return (error as { code?: string }).code;
  }
}

describe('parseCompactJws', () => {
  test('returns the header and payload objects of a well-formed token', () => {
    const { header, payload } = parseCompactJws(`${HEADER}.${PAYLOAD}.${SIG}`);
    assert.deepEqual(header, { alg: 'RS256', kid: 'k1' });
    assert.deepEqual(payload, { iss: 'https://issuer.test/', sub: 'alice' });
  });

  test('rejects two, four and five segments', () => {
    assert.equal(codeOf(`${HEADER}.${PAYLOAD}`), 'token_malformed');
    assert.equal(codeOf(`${HEADER}.${PAYLOAD}.${SIG}.${SIG}`), 'token_malformed');
    assert.equal(codeOf(`${HEADER}.${PAYLOAD}.${SIG}.${SIG}.${SIG}`), 'token_malformed');
    assert.equal(codeOf(`${HEADER}.${PAYLOAD}.${SIG}.`), 'token_malformed');
  });

  test('rejects a JWE-shaped token (five parts)', () => {
    const jweHeader = b64({ alg: 'RSA-OAEP', enc: 'A256GCM' });
    assert.equal(codeOf(`${jweHeader}.${SIG}.${SIG}.${SIG}.${SIG}`), 'token_malformed');
  });

  test('rejects the JSON serialization', () => {
    const json = JSON.stringify({ payload: PAYLOAD, protected: HEADER, signature: SIG });
    assert.equal(codeOf(json), 'token_malformed');
  });

  test('rejects empty header, payload or signature segments', () => {
    assert.equal(codeOf(`.${PAYLOAD}.${SIG}`), 'token_malformed');
    assert.equal(codeOf(`${HEADER}..${SIG}`), 'token_malformed');
    assert.equal(codeOf(`${HEADER}.${PAYLOAD}.`), 'token_malformed');
  });

  test('rejects base64 padding in any segment', () => {
    const padded = Buffer.from(JSON.stringify({ alg: 'RS256', kid: 'k' })).toString('base64');
    assert.ok(padded.endsWith('='), 'the fixture needs padding');
    assert.equal(codeOf(`${padded}.${PAYLOAD}.${SIG}`), 'token_malformed');
    assert.equal(codeOf(`${HEADER}.${PAYLOAD}.${SIG}=`), 'token_malformed');
    assert.equal(codeOf(`${HEADER}.${PAYLOAD}=.${SIG}`), 'token_malformed');
  });

  test('rejects the standard base64 characters + and /', () => {
    const sig = Buffer.from([0xfb, 0xff, 0xfe]).toString('base64url');
    assert.equal(codeOf(`${HEADER}.${PAYLOAD}.${sig}`), undefined);
    assert.equal(
      codeOf(`${HEADER}.${PAYLOAD}.${sig.replace(/-/g, '+').replace(/_/g, '/')}`),
      'token_malformed',
    );
  });

  test('rejects non-canonical trailing bits and impossible lengths', () => {
    // "AA" is one zero byte; "AB" decodes to the same byte with a non-zero unused bit.
    assert.equal(codeOf(`${HEADER}.${PAYLOAD}.AA`), undefined);
    assert.equal(codeOf(`${HEADER}.${PAYLOAD}.AB`), 'token_malformed');
    assert.equal(codeOf(`${HEADER}.${PAYLOAD}.AAAAA`), 'token_malformed');
  });

  test('rejects stray characters such as spaces and dots', () => {
    assert.equal(codeOf(`${HEADER}.${PAYLOAD}.${SIG} `), 'token_malformed');
    assert.equal(codeOf(` ${HEADER}.${PAYLOAD}.${SIG}`), 'token_malformed');
    assert.equal(
      codeOf(`${HEADER}.${PAYLOAD}.${SIG.slice(0, 2)}?${SIG.slice(2)}`),
      'token_malformed',
    );
  });

  test('rejects a header or payload that is not a JSON object', () => {
    for (const value of ['"text"', '42', 'null', '[]', '[{"alg":"RS256"}]', 'true', '{"alg":']) {
      assert.equal(codeOf(`${b64(value)}.${PAYLOAD}.${SIG}`), 'token_malformed', `header ${value}`);
      assert.equal(codeOf(`${HEADER}.${b64(value)}.${SIG}`), 'token_malformed', `payload ${value}`);
    }
  });

  test('rejects invalid UTF-8 in the header and the payload', () => {
    const bad = Buffer.concat([
      Buffer.from('{"alg":"RS256","x":"'),
      Buffer.from([0xc3, 0x28]),
      Buffer.from('"}'),
    ]);
    assert.equal(codeOf(`${bad.toString('base64url')}.${PAYLOAD}.${SIG}`), 'token_malformed');
    assert.equal(codeOf(`${HEADER}.${bad.toString('base64url')}.${SIG}`), 'token_malformed');
  });

  test('rejects any crit header with crit_unsupported', () => {
    for (const crit of [['exp'], [], 'b64']) {
      const header = b64({ alg: 'RS256', crit, exp: 1 });
      assert.equal(codeOf(`${header}.${PAYLOAD}.${SIG}`), 'crit_unsupported', JSON.stringify(crit));
    }
  });

  test('rejects a header without a string alg', () => {
    assert.equal(codeOf(`${b64({ kid: 'k1' })}.${PAYLOAD}.${SIG}`), 'token_malformed');
    assert.equal(codeOf(`${b64({ alg: 256 })}.${PAYLOAD}.${SIG}`), 'token_malformed');
    assert.equal(codeOf(`${b64({ alg: null })}.${PAYLOAD}.${SIG}`), 'token_malformed');
  });
});

describe('readCompactJws', () => {
  test('returns the payload as bytes, empty payloads included', () => {
    assert.deepEqual(readCompactJws(`${HEADER}.${b64('foo')}.${SIG}`).payload, Buffer.from('foo'));
    assert.equal(readCompactJws(`${HEADER}..${SIG}`).payload.length, 0);
  });

  test('applies the same segment, header and crit rules', () => {
    assert.throws(() => readCompactJws(`${HEADER}.${b64('foo')}`), { code: 'token_malformed' });
    assert.throws(() => readCompactJws(`${HEADER}.Zm9v=.${SIG}`), { code: 'token_malformed' });
    assert.throws(() => readCompactJws(`${b64({ alg: 'ES256', crit: ['x'] })}.Zm9v.${SIG}`), {
      code: 'crit_unsupported',
    });
  });
});
