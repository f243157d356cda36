import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../support/paths.js';

export const BAD_CONFIGS = join(ROOT, 'test/fixtures/bad-configs');

export interface BadConfig {
  name: string;
  path: string;
  /** What the file shows, from its first comment line. */
  about: string;
  /** Fields the refusal must name, from its `# expect:` lines. */
  fields: string[];
}

/** Every file in `test/fixtures/bad-configs`, with the fields its comments say it breaks. */
export function badConfigs(): BadConfig[] {
  return readdirSync(BAD_CONFIGS)
    .filter((name) => name.endsWith('.yaml'))
    .sort()
    .map((name) => {
      const path = join(BAD_CONFIGS, name);
      const lines = readFileSync(path, 'utf8').split('\n');
      const fields = lines
        .map((line) => /^# expect: (.+)$/.exec(line)?.[1])
        .filter((field): field is string => field !== undefined);
      if (fields.length === 0) throw new Error(`${name} has no "# expect:" line`);
      return { name, path, about: lines[0]!.replace(/^# /, ''), fields };
    });
}
