import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { startChild, type Child } from './processes.js';
import { tempDir } from './temp.js';

/** A real Prometheus server on a free loopback port, scraping the given targets. */
export interface RunningPrometheus {
  child: Child;
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** Runs an instant PromQL query and returns its vector result. */
  query(promql: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]>;
  /**
   * Re-runs `promql` until `test` accepts the result, or rejects after `timeoutMs`. Each try
   * waits for the next scrape, so the loop is bounded by the deadline, not by a guess.
   */
  waitFor<T>(
    promql: string,
    test: (result: Awaited<ReturnType<RunningPrometheus['query']>>) => T | undefined,
    timeoutMs?: number,
  ): Promise<T>;
  stop(): Promise<void>;
}

export interface PrometheusOptions {
  bin: string;
  /** `host:port` of each target's HTTP port, scraped at `/metrics` under job `tokengate`. */
  targets: string[];
  /** Default `1s`. */
  scrapeInterval?: string;
}

/** A port the kernel says is free right now, on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export async function startPrometheus(options: PrometheusOptions): Promise<RunningPrometheus> {
  const dir = tempDir('tokengate-prometheus-');
  const interval = options.scrapeInterval ?? '1s';
  const configPath = join(dir.path, 'prometheus.yml');
  writeFileSync(
    configPath,
    stringify({
      global: { scrape_interval: interval, evaluation_interval: interval },
      scrape_configs: [
        {
          job_name: 'tokengate',
          scrape_interval: interval,
          scrape_timeout: interval,
          static_configs: [{ targets: options.targets }],
        },
      ],
    }),
  );

  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = startChild('prometheus', options.bin, [
    `--config.file=${configPath}`,
    `--storage.tsdb.path=${join(dir.path, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--log.level=warn',
  ]);

  const query: RunningPrometheus['query'] = async (promql) => {
    const response = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(promql)}`);
    const body = (await response.json()) as {
      status: string;
      error?: string;
      data?: { resultType: string; result: never[] };
    };
    if (body.status !== 'success') throw new Error(`query ${promql} failed: ${body.error}`);
    return body.data!.result;
  };

  const stop = async () => {
    await child.stop();
    dir.remove();
  };

  try {
    await untilReady(url, child);
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    child,
    url,
    query,
    waitFor: async (promql, test, timeoutMs = 20_000) => {
      const deadline = Date.now() + timeoutMs;
      let last: unknown;
      while (Date.now() < deadline) {
        last = await query(promql);
        const accepted = test(last as never);
        if (accepted !== undefined) return accepted;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      throw new Error(`prometheus: ${promql} never matched; last result ${JSON.stringify(last)}`);
    },
    stop,
  };
}

async function untilReady(url: string, child: Child, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.process.exitCode !== null) throw new Error(`prometheus exited\n${child.tail()}`);
    try {
      if ((await fetch(`${url}/-/ready`)).status === 200) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`prometheus not ready after ${timeoutMs} ms\n${child.tail()}`);
}
