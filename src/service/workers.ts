import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';
import { AggregatorRegistry, type Registry, type RegistryContentType } from 'prom-client';

/**
 * `workers: N` (N > 1): one primary process that forks N workers of the same command. The
 * workers share the gRPC and HTTP ports (the primary accepts connections and hands them out
 * round-robin), and each has its own caches, key stores and metrics; `/metrics`, whichever
 * worker answers it, is the sum over all of them, gathered by the primary.
 */

const METRICS_REQUEST = 'tokengate:metrics-request';
const METRICS_RESPONSE = 'tokengate:metrics-response';
/** Longest wait for the primary's aggregated metrics, in milliseconds. */
const METRICS_TIMEOUT = 5_000;
/** A worker that dies is replaced, but no more than this many times per minute. */
const MAX_RESTARTS_PER_MINUTE = 10;

type MetricsRequest = { type: typeof METRICS_REQUEST; id: number; accept?: string };
type MetricsResponse = {
  type: typeof METRICS_RESPONSE;
  id: number;
  contentType?: string;
  body?: string;
  error?: string;
};

/** True in a process forked by {@link runPrimary}. */
export function isWorker(): boolean {
  return cluster.isWorker;
}

/** The logger with the worker's id on every line, so a line says which process wrote it. */
export function workerLogger(log: Logger): Logger {
  return cluster.isWorker && cluster.worker ? log.child({ worker: cluster.worker.id }) : log;
}

/**
 * Runs the primary: forks `count` workers running this same command line, replaces those that
 * die unasked (at most {@link MAX_RESTARTS_PER_MINUTE} a minute), answers the workers' requests
 * for aggregated metrics, and on SIGTERM or SIGINT passes the signal on and waits for every
 * worker to drain and exit, killing those still running after `stopTimeoutMs` milliseconds.
 * Resolves with the exit code.
 */
export async function runPrimary(
  count: number,
  log: Logger,
  stopTimeoutMs: number,
): Promise<number> {
  if (!cluster.isPrimary) throw new Error('runPrimary must run in the primary process');
  const aggregator = new AggregatorRegistry();
  let stopping = false;
  const restarts: number[] = [];

  const live = new Set<Worker>();
  const fork = (): Worker => {
    const worker = cluster.fork();
    live.add(worker);
    worker.on('message', (message: MetricsRequest) => {
      if (message?.type === METRICS_REQUEST) void answerMetrics(worker, message, aggregator);
    });
    return worker;
  };

  let exitCode = 0;
  const exited = new Promise<number>((resolve) => {
    cluster.on('exit', (worker, code, signal) => {
      live.delete(worker);
      if (stopping) {
        if (live.size === 0) resolve(exitCode);
        return;
      }
      log.error({ worker: worker.id, code, signal }, 'worker exited unexpectedly');
      const now = Date.now();
      restarts.push(now);
      while (restarts.length > 0 && restarts[0]! < now - 60_000) restarts.shift();
      if (restarts.length <= MAX_RESTARTS_PER_MINUTE) {
        fork();
        return;
      }

      log.fatal({ restarts: restarts.length }, 'workers keep dying; stopping');
      stopping = true;
      exitCode = 1;
      for (const other of live) other.process.kill('SIGTERM');
      if (live.size === 0) resolve(exitCode);
    });
  });

  for (let index = 0; index < count; index++) fork();
  log.info({ workers: count }, 'tokengate primary started');

  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutdown requested; stopping workers');
    for (const worker of live) worker.process.kill('SIGTERM');
    // A worker still starting up has no drain handler yet and may never act on the signal.
    setTimeout(() => {
      for (const worker of live) {
        log.warn({ worker: worker.id }, 'worker did not stop in time; killing it');
        worker.process.kill('SIGKILL');
      }
    }, stopTimeoutMs).unref();
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);

  const code = await exited;
  log.info({ code }, 'all workers stopped');
  log.flush();
  return code;
}

async function answerMetrics(
  worker: Worker,
  request: MetricsRequest,
  aggregator: AggregatorRegistry<RegistryContentType>,
): Promise<void> {
  let response: MetricsResponse;
  try {
    const body = await aggregator.clusterMetrics();
    response = {
      type: METRICS_RESPONSE,
      id: request.id,
      contentType: aggregator.contentType,
      body,
    };
  } catch (error) {
    response = { type: METRICS_RESPONSE, id: request.id, error: (error as Error).message };
  }
  if (worker.isConnected()) worker.send(response);
}

/**
 * In a worker, lets the primary read `registry` when it aggregates; elsewhere does nothing.
 * Call it once, when the worker's metrics are created.
 */
export function shareMetricsWithPrimary(registry: Registry<RegistryContentType>): void {
  if (!cluster.isWorker) return;
  // Constructing one installs prom-client's listener that answers the primary's requests.
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries([registry as never]);
}

/** In a worker that has drained, closes the channel to the primary so the process can exit. */
export function leaveCluster(): void {
  if (cluster.isWorker && cluster.worker?.isConnected()) cluster.worker.disconnect();
}

let nextRequest = 0;

/**
 * The `/metrics` body: in a worker, the sum over all workers as the primary aggregates it; in a
 * single process, `local()`.
 */
export async function metricsExposition(
  local: () => Promise<{ contentType: string; body: string }>,
  accept?: string,
): Promise<{ contentType: string; body: string }> {
  if (!cluster.isWorker || process.send === undefined) return local();

  const id = nextRequest++;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      process.off('message', onMessage);
      reject(new Error('the primary did not answer with aggregated metrics'));
    }, METRICS_TIMEOUT);
    const onMessage = (message: MetricsResponse) => {
      if (message?.type !== METRICS_RESPONSE || message.id !== id) return;
      clearTimeout(timer);
      process.off('message', onMessage);
      if (message.error !== undefined || message.body === undefined) {
        reject(new Error(`metrics aggregation failed: ${message.error ?? 'no body'}`));
      } else resolve({ contentType: message.contentType ?? 'text/plain', body: message.body });
    };
    process.on('message', onMessage);
    process.send!({
      type: METRICS_REQUEST,
      id,
      ...(accept ? { accept } : {}),
    } satisfies MetricsRequest);
  });
}
