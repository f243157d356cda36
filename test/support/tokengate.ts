import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { stringify } from 'yaml';
import { authorizationService } from '../../src/grpc/protos.js';
import { CLI } from './paths.js';
import { startChild, type Child } from './processes.js';
import { RECORD_DIR } from './suite-record.js';
import { tempDir } from './temp.js';

/** A tokengate process started from the built CLI with a config written to a temp file. */
export interface RunningTokengate {
  child: Child;
  grpcAddress: string;
  httpAddress: string;
  configPath: string;
  /** Parsed JSON log lines written so far. */
  logs(): Record<string, unknown>[];
  /** Resolves with the first decision line, written or still to come, that passes `test`. */
  waitForDecision(
    test: (line: Record<string, any>) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, any>>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Starts `tokengate serve` on the given config (an object, or YAML text), with port-0 loopback
 * addresses unless the config sets its own, and waits until it listens.
 */
export async function startTokengate(
  config: Record<string, unknown> | string,
  options: { args?: string[]; env?: NodeJS.ProcessEnv; configPath?: string } = {},
): Promise<RunningTokengate> {
  const dir = tempDir('tokengate-run-');
  const configPath = options.configPath ?? join(dir.path, 'tokengate.yaml');
  if (options.configPath === undefined) {
    const text =
      typeof config === 'string'
        ? config
        : stringify({
            grpc: { address: '127.0.0.1:0' },
            http: { address: '127.0.0.1:0' },
            // The whole-suite run logs at debug, so the secrets scan covers every level.
            ...(RECORD_DIR === undefined ? {} : { log: { level: 'debug' } }),
            ...config,
          });
    writeFileSync(configPath, text);
  }

  const child = startChild(
    'tokengate',
    process.execPath,
    [CLI, 'serve', '--config', configPath, ...(options.args ?? [])],
    options.env,
  );
  const line = await child.waitForLine((text) => text.includes('"tokengate listening"'));
  const listening = JSON.parse(line) as { grpc: string; http: string };

  return {
    child,
    grpcAddress: listening.grpc,
    httpAddress: listening.http,
    configPath,
    logs: () =>
      child.stdout
        .filter((text) => text.startsWith('{'))
        .map((text) => JSON.parse(text) as Record<string, unknown>),
    waitForDecision: async (test, timeoutMs) => {
      const isMatch = (text: string) => text.includes('"msg":"decision"') && test(JSON.parse(text));
      return JSON.parse(await child.waitForLine(isMatch, timeoutMs));
    },
    stop: async (signal) => {
      const code = await child.stop(signal);
      dir.remove();
      return code;
    },
  };
}

export interface CheckInput {
  method?: string;
  path?: string;
  host?: string;
  headers?: Record<string, string>;
  contextExtensions?: Record<string, string>;
  sourceAddress?: string;
}

/** A gRPC client of `envoy.service.auth.v3.Authorization` for direct Check calls. */
export class CheckClient {
  private readonly client: grpc.Client & Record<string, Function>;

  constructor(address: string) {
    const Client = grpc.makeGenericClientConstructor(authorizationService(), 'Authorization');
    this.client = new Client(address, grpc.credentials.createInsecure()) as never;
  }

  check(input: CheckInput = {}, deadlineMs = 5_000): Promise<Record<string, any>> {
    const headers = { ':authority': input.host ?? 'api.example.com', ...input.headers };
    const request = {
      attributes: {
        source: {
          address: {
            socket_address: { address: input.sourceAddress ?? '127.0.0.1', port_value: 40000 },
          },
        },
        request: {
          http: {
            id: 'test-request',
            method: input.method ?? 'GET',
            path: input.path ?? '/',
            host: input.host ?? 'api.example.com',
            headers,
          },
        },
        context_extensions: input.contextExtensions ?? {},
      },
    };
    return new Promise((resolve, reject) =>
      this.client.Check!(
        request,
        { deadline: Date.now() + deadlineMs },
        (error: Error | null, response: Record<string, any>) =>
          error ? reject(error) : resolve(response),
      ),
    );
  }

  close(): void {
    this.client.close();
  }
}
