import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ROOT } from '../support/paths.js';
import { CHART } from './helm.js';

/** Folders under deploy/ whose files the chart ships, and which of their files it needs. */
const COPIES: [folder: string, wanted: (name: string) => boolean][] = [
  ['grafana', (name) => name.endsWith('.json')],
  // Rule files only; promtool's unit tests of them stay in deploy/.
  ['prometheus', (name) => name.endsWith('.yaml') && !name.endsWith('.test.yaml')],
];

describe('the chart copies of the monitoring files', () => {
  for (const [folder, wanted] of COPIES) {
    const originals = join(ROOT, 'deploy', folder);
    const copies = join(CHART, 'files', folder);

    test(`ship every file of deploy/${folder}/ exactly as it is there`, () => {
      assert.ok(existsSync(originals), `deploy/${folder}/ is missing`);
      const names = readdirSync(originals).filter(wanted).sort();
      assert.ok(names.length > 0, `deploy/${folder}/ has no file to ship`);
      assert.deepEqual(readdirSync(copies).filter(wanted).sort(), names);
      for (const name of names) {
        assert.equal(
          readFileSync(join(copies, name), 'utf8'),
          readFileSync(join(originals, name), 'utf8'),
          `charts/tokengate/files/${folder}/${name} differs from deploy/${folder}/${name}`,
        );
      }
    });
  }
});
