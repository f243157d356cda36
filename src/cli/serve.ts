import { parseArgs } from 'node:util';
import type { LoadedConfig } from '../config/load.js';
import { loadOrReport } from './config-report.js';
import { createLogger } from '../observability/logger.js';
import { TokengateService, type ServiceOptions } from '../service/tokengate-service.js';
import { isWorker, leaveCluster, runPrimary, workerLogger } from '../service/workers.js';

export async function runServe(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { config: { type: 'string', short: 'c' } },
    strict: true,
  });
  if (values.config === undefined) {
    process.stderr.write('tokengate serve: --config FILE is required\n');
    return 2;
  }

  const loaded = await loadOrReport(values.config);
  if (loaded === undefined) return 1;
  if (loaded.config.workers > 1 && !isWorker()) {
    const { drainDelay, gracePeriod } = loaded.config.shutdown;
    const log = createLogger({ level: loaded.config.log.level });
    return runPrimary(loaded.config.workers, log, drainDelay + gracePeriod + 5_000);
  }
  const code = await serveUntilSignal(loaded, { configFile: values.config });
  leaveCluster();
  return code;
}

/** Starts the service and runs it until SIGTERM or SIGINT, then drains and returns 0. */
export async function serveUntilSignal(
  loaded: LoadedConfig,
  extra: Omit<ServiceOptions, 'log'>,
  onStarted?: (service: TokengateService) => void | Promise<void>,
): Promise<number> {
  const log = workerLogger(createLogger({ level: loaded.config.log.level }));
  const service = await TokengateService.start(loaded, { ...extra, log });
  await onStarted?.(service);

  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  log.info({ signal }, 'shutdown requested');
  await service.shutdown();
  log.flush();
  return 0;
}
