import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkExpression, compileExpression, type CelBindings } from '../../src/policy/cel.js';

const bindings = (token: Record<string, unknown> = {}, headers = {}): CelBindings => ({
  request: {
    method: 'POST',
    path: '/admin/users',
    host: 'api.example.com',
    headers: { 'x-admin-mode': 'on', ...headers },
    source: { address: '10.1.2.3' },
    context_extensions: { 'tokengate.policy': 'admin' },
  },
  token,
});

const run = (source: string, token?: Record<string, unknown>) =>
  compileExpression(source).evaluate(bindings(token));

describe('CEL expressions', () => {
  test('see the request method, path, host, headers, source and context extensions', () => {
    for (const source of [
      'request.method == "POST"',
      'request.path.startsWith("/admin/")',
      'request.host == "api.example.com"',
      'request.headers["x-admin-mode"] == "on"',
      'request.source.address == "10.1.2.3"',
      'request.context_extensions["tokengate.policy"] == "admin"',
    ]) {
      assert.deepEqual(run(source), { ok: true, value: true }, source);
    }
  });

  test('see the token claims, with lists, maps and numbers', () => {
    const token = { sub: 'alice', roles: ['admin'], org: { id: 'acme' }, level: 3 };
    for (const source of [
      'token.sub == "alice"',
      '"admin" in token.roles',
      'token.roles.exists(r, r == "admin")',
      'token.org.id == "acme"',
      'token.level >= 3',
      'has(token.sub) && !has(token.tenant)',
      'size(token.roles) == 1',
    ]) {
      assert.deepEqual(run(source, token), { ok: true, value: true }, source);
    }
  });

  test('offer the string extension functions', () => {
    assert.deepEqual(run('token.sub.upperAscii() == "ALICE"', { sub: 'alice' }), {
      ok: true,
      value: true,
    });
  });

  test('a false result is a false outcome, not an error', () => {
    assert.deepEqual(run('request.method == "GET"'), { ok: true, value: false });
  });

  test('a missing claim or header is an evaluation error, never a pass', () => {
    assert.equal(run('token.tenant == "acme"', {}).ok, false);
    assert.equal(run('request.headers["x-missing"] == "1"').ok, false);
    assert.deepEqual(run('"x-missing" in request.headers && request.headers["x-missing"] == "1"'), {
      ok: true,
      value: false,
    });
  });

  test('a result that turns out not to be a bool at run time is an error', () => {
    assert.equal(run('token.sub', { sub: 'alice' }).ok, false);
  });

  test('rejects syntax errors at load', () => {
    assert.match(checkExpression('token.sub ==')!, /syntax/);
  });

  test('rejects undeclared variables and unknown request fields at load', () => {
    assert.match(checkExpression('user.sub == "a"')!, /undeclared reference to "user"/);
    assert.match(checkExpression('request.methd == "GET"')!, /no field "methd"/);
  });

  test('rejects unknown functions and operands of the wrong type at load', () => {
    assert.match(checkExpression('lookup(token.sub)')!, /undeclared function/);
    assert.match(checkExpression('1 + "a" == 2')!, /no overload/);
    assert.match(checkExpression('token.sub.startsWith(1)')!, /no overload/);
  });

  test('rejects an expression that cannot return a bool at load', () => {
    assert.match(checkExpression('"text"')!, /must return a bool, not string/);
    assert.match(checkExpression('1 + 2')!, /not int/);
    assert.equal(checkExpression('token.flag'), undefined);
  });
});
