import { readFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { configSchema, type Config } from './schema.js';

/** One problem in a config file, with the field it concerns (`issuers[0].jwks.uri`). */
export interface ConfigProblem {
  field: string;
  message: string;
}

/** A config file that cannot be used; `problems` lists every error found, not only the first. */
export class ConfigError extends Error {
  readonly code = 'config_invalid';
  readonly problems: readonly ConfigProblem[];
  readonly source: string;

  constructor(source: string, problems: readonly ConfigProblem[]) {
    super(`${source}: ${problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
    this.source = source;
  }
}

/** A loaded configuration and the SHA-256 of the text it came from. */
export interface LoadedConfig {
  config: Config;
  hash: string;
  source: string;
}

/** Parses and validates YAML text; throws {@link ConfigError} naming each bad field. */
export function parseConfig(text: string, source = 'config'): LoadedConfig {
  const document = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (document.errors.length > 0) {
    throw new ConfigError(
      source,
      document.errors.map((error) => ({ field: '(yaml)', message: error.message.split('\n')[0]! })),
    );
  }

  return validateConfig(document.toJS() ?? {}, source, hashOf(text));
}

/** Validates an already parsed value, as the dev mode and tests build configs in memory. */
export function validateConfig(
  value: unknown,
  source = 'config',
  hash = hashOf(JSON.stringify(value)),
) {
  const result = configSchema.safeParse(value);
  if (!result.success) throw new ConfigError(source, result.error.issues.flatMap(toProblems));
  return { config: deepFreeze(result.data), hash, source };
}

export async function loadConfigFile(path: string): Promise<LoadedConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError(path, [{ field: '(file)', message: (error as Error).message }]);
  }
  return parseConfig(text, path);
}

function toProblems(issue: z.core.$ZodIssue): ConfigProblem[] {
  // One problem per unknown key, named by the key itself, so a typo points at its own line.
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => ({
      field: formatPath([...issue.path, key]),
      message: 'unknown key',
    }));
  }
  return [{ field: formatPath(issue.path) || '(root)', message: issue.message }];
}

function formatPath(path: readonly PropertyKey[]): string {
  return path
    .map((part, index) =>
      typeof part === 'number' ? `[${part}]` : index === 0 ? String(part) : `.${String(part)}`,
    )
    .join('');
}

function hashOf(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
