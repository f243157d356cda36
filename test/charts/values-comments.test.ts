import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { isMap, parseDocument, type YAMLMap } from 'yaml';
import { CHART } from './helm.js';

/**
 * Paths of values without a comment. A commented key documents everything under it (a Kubernetes
 * object such as `resources`); an uncommented block of keys needs a comment on each of its keys.
 */
function undocumented(map: YAMLMap, path: string[] = []): string[] {
  return map.items.flatMap((pair, index) => {
    const key = String((pair.key as { value: unknown }).value);
    const commented =
      Boolean((pair.key as { commentBefore?: string }).commentBefore) ||
      (index === 0 && Boolean(map.commentBefore));
    if (commented) return [];
    if (isMap(pair.value) && !pair.value.flow && pair.value.items.length > 0)
      return undocumented(pair.value, [...path, key]);
    return [[...path, key].join('.')];
  });
}

test('the chart has a comment on every value', () => {
  const document = parseDocument(readFileSync(join(CHART, 'values.yaml'), 'utf8'));
  assert.deepEqual(undocumented(document.contents as YAMLMap), []);
});

test('the values schema knows every default value and refuses keys it does not list', () => {
  const schema = JSON.parse(readFileSync(join(CHART, 'values.schema.json'), 'utf8'));
  const values = parseDocument(readFileSync(join(CHART, 'values.yaml'), 'utf8')).toJS();
  assert.equal(schema.additionalProperties, false);
  for (const key of Object.keys(values)) assert.ok(key in schema.properties, key);
});
