import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { TestContext } from 'node:test';
import { TOOLS } from './paths.js';

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, name);
    if (dir !== '' && executable(candidate)) return candidate;
  }
  return undefined;
}

/** Where each external program is looked for, first match wins. */
const LOOKUPS: Record<string, () => string | undefined> = {
  envoy: () => process.env.ENVOY_BIN || onPath('envoy') || existing(join(TOOLS, 'venv/bin/envoy')),
  'redis-server': () => onPath('redis-server') || existing('/usr/bin/redis-server'),
  prometheus: () => onPath('prometheus') || existing('/usr/bin/prometheus'),
  promtool: () => onPath('promtool') || existing('/usr/bin/promtool'),
  helm: () => process.env.HELM_BIN || existing(join(TOOLS, 'bin/helm')) || onPath('helm'),
  ghz: () => existing(join(TOOLS, 'bin/ghz')) || onPath('ghz'),
  h2load: () => onPath('h2load'),
  wrk: () => onPath('wrk'),
};

function existing(path: string): string | undefined {
  return executable(path) ? path : undefined;
}

/** The path of an external program, or `undefined` when it is not installed. */
export function findTool(name: keyof typeof LOOKUPS | string): string | undefined {
  return LOOKUPS[name]?.() ?? onPath(name);
}

/**
 * The path of an external program a test needs. Missing, it skips the test with the command
 * that installs it, except under CI, where a missing tool fails the run.
 */
export function requireTool(t: TestContext, name: string): string | undefined {
  const path = findTool(name);
  if (path !== undefined) return path;

  const message = `${name} is not installed; run scripts/install-test-tools.sh`;
  if (process.env.CI) throw new Error(`${message} (CI does not skip)`);
  t.skip(message);
  return undefined;
}

/**
 * For a whole suite: the program's path, and the `skip` option for `describe`. Missing, the
 * suite is skipped with the command that installs it, except under CI, where loading the test
 * file fails: CI never skips.
 */
export function suiteTool(name: string): [path: string | undefined, skip: string | false] {
  const path = findTool(name);
  if (path !== undefined) return [path, false];

  const message = `${name} is not installed; run scripts/install-test-tools.sh`;
  if (process.env.CI) throw new Error(`${message} (CI does not skip)`);
  return [undefined, message];
}
