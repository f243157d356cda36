import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root, from the compiled `dist/test/support` folder or the source tree. */
export const ROOT = (() => {
  const here = dirname(fileURLToPath(import.meta.url));
  return here.includes(`${join('dist', 'test')}`) ? join(here, '../../..') : join(here, '../..');
})();

export const CLI = join(ROOT, 'dist/src/cli/main.js');
export const TOOLS = join(ROOT, '.tools');
