import { loadOrReport } from './config-report.js';

/** `tokengate check-config FILE`: every problem of a config file at once; exit 1 when any. */
export async function runCheckConfig(args: string[]): Promise<number> {
  const [file] = args;
  if (file === undefined) {
    process.stderr.write('tokengate check-config: FILE is required\n');
    return 2;
  }

  const loaded = await loadOrReport(file);
  if (loaded === undefined) return 1;
  process.stdout.write(
    `${file}: ok (${loaded.config.issuers.length} issuers, hash ${loaded.hash})\n`,
  );
  return 0;
}
