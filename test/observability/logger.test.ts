import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import { byteDestination, createLogger, REDACTED_PATHS } from '../../src/observability/logger.js';

const SECRET = 'Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2ln';

/** A pino destination that keeps every line. */
function capture() {
  const lines: string[] = [];
  return {
    lines,
    parsed: () => lines.map((line) => JSON.parse(line) as Record<string, any>),
    destination: { write: (line: string) => void lines.push(line) },
  };
}

/** `headers["set-cookie"]` → ['headers', 'set-cookie']; `*` becomes a concrete key. */
function segmentsOf(path: string): string[] {
  const segments: string[] = [];
  for (const match of path.matchAll(/([^.[\]"]+)|\["([^"]+)"\]/g)) {
    const segment = match[1] ?? match[2]!;
    segments.push(segment === '*' ? 'anything' : segment);
  }
  return segments;
}

function objectAt(segments: string[], value: unknown): Record<string, unknown> {
  return segments.reduceRight<unknown>((inner, key) => ({ [key]: inner }), value) as Record<
    string,
    unknown
  >;
}

function valueAt(object: Record<string, any>, segments: string[]): unknown {
  return segments.reduce<any>((node, key) => node?.[key], object);
}

describe('logger redaction', () => {
  test('parses every listed path into segments', () => {
    assert.deepEqual(segmentsOf('headers["set-cookie"]'), ['headers', 'set-cookie']);
    assert.deepEqual(segmentsOf('*.authorization'), ['anything', 'authorization']);
    assert.ok(REDACTED_PATHS.includes('authorization') && REDACTED_PATHS.includes('cookie'));
  });

  for (const level of ['info', 'debug'] as const) {
    test(`censors every path in REDACTED_PATHS at ${level} level`, () => {
      const out = capture();
      const log = createLogger({ level: 'debug', destination: out.destination });
      for (const path of REDACTED_PATHS) {
        const segments = segmentsOf(path);
        log[level](objectAt(segments, SECRET), 'line');
        const line = out.parsed().at(-1)!;
        assert.equal(valueAt(line, segments), '[redacted]', path);
      }
      assert.equal(out.lines.length, REDACTED_PATHS.length);
      for (const line of out.lines) assert.ok(!line.includes('eyJ'), line);
    });
  }

  test('censors authorization and cookie in a child logger and beside other fields', () => {
    const out = capture();
    const log = createLogger({ level: 'debug', destination: out.destination }).child({
      component: 'x',
    });
    log.debug(
      {
        requestId: 'r1',
        headers: { authorization: SECRET, cookie: 'session=abc', accept: '*/*' },
        request: { headers: { authorization: SECRET, cookie: 'session=abc' } },
      },
      'request',
    );
    const line = out.parsed()[0]!;
    assert.equal(line.requestId, 'r1');
    assert.equal(line.headers.accept, '*/*');
    assert.equal(line.headers.authorization, '[redacted]');
    assert.equal(line.headers.cookie, '[redacted]');
    assert.equal(line.request.headers.authorization, '[redacted]');
    assert.ok(!out.lines[0]!.includes('session=abc'));
    assert.ok(!out.lines[0]!.includes('eyJ'));
  });

  test("leaves the caller's object untouched", () => {
    const out = capture();
    const log = createLogger({ level: 'debug', destination: out.destination });
    const object = {
      authorization: SECRET,
      headers: { authorization: SECRET, cookie: 'c=1', 'set-cookie': 'c=2' },
      nested: { token: SECRET },
    };
    const before = structuredClone(object);
    log.info(object, 'first');
    log.debug(object, 'second');
    assert.deepEqual(object, before);
    assert.equal(out.parsed()[1]!.headers.authorization, '[redacted]');
  });

  test('writes nothing below the configured level', () => {
    const out = capture();
    const log = createLogger({ level: 'info', destination: out.destination });
    log.debug({ authorization: SECRET }, 'hidden');
    assert.equal(out.lines.length, 0);
  });

  test('a buffer-mode destination takes pino string lines and bytes alike, in order', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tokengate-log-'));
    try {
      const file = join(dir, 'out.log');
      const stream = byteDestination(
        pino.destination({ dest: file, sync: false, contentMode: 'buffer' }),
      );
      await once(stream, 'ready');
      const log = createLogger({ level: 'info', destination: stream });
      log.info({ who: 'Zoë' }, 'first');
      stream.write(Buffer.from('{"msg":"bytes","who":"名前"}\n'));
      log.info('third');
      stream.end();
      await once(stream, 'close');
      const lines = readFileSync(file, 'utf8')
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as Record<string, unknown>);
      assert.deepEqual(
        lines.map((line) => [line.msg, line.who]),
        [
          ['first', 'Zoë'],
          ['bytes', '名前'],
          ['third', undefined],
        ],
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
