import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { splitPath } from '../../src/policy/path-pattern.js';
import {
  compileMatch,
  mismatch,
  normaliseHost,
  RuleIndex,
  type MatchInput,
} from '../../src/policy/rule-index.js';
import type { MatchConfig } from '../../src/policy/policy-schema.js';

const input = (path: string, host = 'api.example.com', method = 'GET'): MatchInput => ({
  host,
  method,
  path,
  parts: splitPath(path),
});

describe('rule matching', () => {
  test('matches exact hosts, and wildcard hosts on subdomains but not the apex', () => {
    const match = compileMatch({ hosts: ['api.example.com', '*.example.org'] });
    assert.equal(mismatch(match, input('/', 'api.example.com')), undefined);
    assert.equal(mismatch(match, input('/', 'a.b.example.org')), undefined);
    assert.match(mismatch(match, input('/', 'example.org'))!, /host/);
    assert.match(mismatch(match, input('/', 'evil-example.org'))!, /host/);
  });

  test('matches methods', () => {
    const match = compileMatch({ methods: ['GET', 'HEAD'] });
    assert.equal(mismatch(match, input('/', undefined, 'HEAD')), undefined);
    assert.match(mismatch(match, input('/', undefined, 'POST'))!, /method/);
  });

  test('matches plain string prefixes', () => {
    const match = compileMatch({ prefixes: ['/static/'] });
    assert.equal(mismatch(match, input('/static/app.js')), undefined);
    assert.match(mismatch(match, input('/staticx'))!, /path/);
  });

  test('a request fits when any of the paths or prefixes fits', () => {
    const match = compileMatch({ paths: ['/a'], prefixes: ['/b'] });
    assert.equal(mismatch(match, input('/a')), undefined);
    assert.equal(mismatch(match, input('/bcd')), undefined);
    assert.notEqual(mismatch(match, input('/c')), undefined);
  });

  test('normalises the host: case, port, trailing dot, IPv6 brackets', () => {
    assert.equal(normaliseHost('API.Example.com:8443'), 'api.example.com');
    assert.equal(normaliseHost('api.example.com.'), 'api.example.com');
    assert.equal(normaliseHost('[::1]:8080'), '[::1]');
  });
});

describe('the rule index', () => {
  const matches: MatchConfig[] = [
    {},
    { paths: ['/orders/{id}'] },
    { hosts: ['api.example.com'], prefixes: ['/orders/'] },
    { hosts: ['*.example.com'], paths: ['/orders/**'] },
    { hosts: ['other.example.net'], paths: ['/orders/**'] },
    { paths: ['/users/**'] },
    { paths: ['/{tenant}/orders'] },
  ];
  const index = new RuleIndex(matches.map(compileMatch));

  test('returns, in rule order, only rules of the host whose literal path prefix fits', () => {
    assert.deepEqual(index.candidates(input('/orders/1')), [0, 1, 2, 3, 6]);
    assert.deepEqual(index.candidates(input('/users/7')), [0, 5, 6]);
    assert.deepEqual(index.candidates(input('/orders/1', 'other.example.net')), [0, 1, 4, 6]);
  });

  test('never leaves out a rule that fits', () => {
    const paths = ['/', '/orders', '/orders/', '/orders/1', '/users', '/acme/orders', '/x/y/z'];
    const hosts = ['api.example.com', 'a.example.com', 'other.example.net', 'example.com'];
    const compiled = matches.map(compileMatch);
    for (const path of paths) {
      for (const host of hosts) {
        const fitting = compiled.flatMap((m, at) => (mismatch(m, input(path, host)) ? [] : [at]));
        const candidates = new Set(index.candidates(input(path, host)));
        for (const at of fitting) assert.ok(candidates.has(at), `${host}${path} misses rule ${at}`);
      }
    }
  });

  test('with 500 rules on distinct prefixes, a lookup sees a handful', () => {
    const many = Array.from({ length: 500 }, (_, at) => compileMatch({ paths: [`/svc${at}/**`] }));
    const large = new RuleIndex(many);
    assert.deepEqual(large.candidates(input('/svc417/items/3')), [417]);
    assert.deepEqual(large.candidates(input('/nothing')), []);
  });
});
