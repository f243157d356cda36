import { ConfigError, loadConfigFile, type LoadedConfig } from '../config/load.js';

/** Loads a config file; a bad one is reported on stderr, every problem with its field. */
export async function loadOrReport(path: string): Promise<LoadedConfig | undefined> {
  try {
    return await loadConfigFile(path);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    reportConfigError(error);
    return undefined;
  }
}

/** Prints a config error: the file, then one line per problem with its field. */
export function reportConfigError(error: ConfigError): void {
  process.stderr.write(`tokengate: invalid config ${error.source}\n`);
  for (const problem of error.problems)
    process.stderr.write(`  ${problem.field}: ${problem.message}\n`);
}
