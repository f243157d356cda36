import { ConfigError, loadConfigFile } from '../config/load.js';
import { reportConfigError } from './serve.js';

export async function runCheckConfig(args: string[]): Promise<number> {
  const [file] = args;
  if (file === undefined) {
    process.stderr.write('tokengate check-config: FILE is required\n');
    return 2;
  }
  try {
    const loaded = await loadConfigFile(file);
    process.stdout.write(
      `${file}: ok (${loaded.config.issuers.length} issuers, hash ${loaded.hash})\n`,
    );
    return 0;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    reportConfigError(error);
    return 1;
  }
}
