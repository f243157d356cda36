import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseConfig } from '../../src/config/load.js';
import { REASONS } from '../../src/decision/reasons.js';
import { ROOT } from '../support/paths.js';

const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');

test('the README lists every reason code with its status and error, and no other', () => {
  const table = readme.split('<!-- reasons:start -->')[1]?.split('<!-- reasons:end -->')[0] ?? '';
  const rows = [
    ...table.matchAll(/^\|\s*`([a-z_]+)`\s*\|\s*(\d{3})\s*\|\s*([a-z_]+|—)\s*\|\s*(.+?)\s*\|$/gm),
  ].map((match) => ({
    code: match[1]!,
    status: Number(match[2]),
    error: match[3] === '—' ? undefined : match[3],
    description: match[4],
  }));

  const expected = Object.entries(REASONS).map(([code, spec]) => ({
    code,
    status: spec.status,
    error: 'error' in spec ? spec.error : undefined,
    description: spec.description,
  }));
  assert.deepEqual(rows, expected);
});

test('CI runs exactly the test command the README gives', () => {
  const ci = readFileSync(join(ROOT, '.ci/run'), 'utf8');
  assert.match(readme, /```sh\nnpm ci && npm test\n```/);
  assert.match(ci, /^npm ci && npm test$/m);
});

test('the README config example and its policy example pass validation together', () => {
  const blocks = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)].map((match) => match[1]!);
  const base = blocks.find((block) => block.startsWith('grpc:'));
  const policies = blocks.find((block) => block.startsWith('policies:'));
  assert.ok(base !== undefined && policies !== undefined, 'both examples are in the README');

  const { config } = parseConfig(`${base}\n${policies}`, 'README.md');
  assert.equal(config.issuers[0]?.name, 'corp');
});
