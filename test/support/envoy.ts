import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { ROOT } from './paths.js';
import { startChild, type Child } from './processes.js';
import { tempDir } from './temp.js';

export const ENVOY_CONFIG = join(ROOT, 'deploy/envoy/envoy.yaml');

export interface EnvoyOptions {
  /** The Envoy binary (from `requireTool(t, 'envoy')`). */
  bin: string;
  /** Config file to run; `deploy/envoy/envoy.yaml` by default. */
  configPath?: string;
  /** Parsed config to run instead of a file (as a chart renders it). */
  config?: Record<string, any>;
  /** tokengate's gRPC address: `127.0.0.1:PORT` or `unix:/path`. */
  tokengate: string;
  /** The upstream's loopback port. */
  upstreamPort: number;
}

export interface RunningEnvoy {
  child: Child;
  /** Base URL of the ingress listener, e.g. `http://127.0.0.1:41234`. */
  url: string;
  adminUrl: string;
  stop(): Promise<void>;
}

/**
 * Runs a real Envoy on the given config with only addresses rewritten: the listeners and the
 * admin port to free loopback ports, the `tokengate` and `upstream` clusters to the test's servers.
 */
export async function startEnvoy(options: EnvoyOptions): Promise<RunningEnvoy> {
  const config = structuredClone(
    options.config ??
      (parse(readFileSync(options.configPath ?? ENVOY_CONFIG, 'utf8')) as Record<string, any>),
  );
  const dir = tempDir('tokengate-envoy-');

  config.admin.address = { socket_address: { address: '127.0.0.1', port_value: 0 } };
  for (const listener of config.static_resources.listeners) {
    listener.address = { socket_address: { address: '127.0.0.1', port_value: 0 } };
  }
  for (const cluster of config.static_resources.clusters) {
    if (cluster.name === 'tokengate')
      cluster.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address = addressOf(
        options.tokengate,
      );
    if (cluster.name === 'upstream') {
      cluster.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address = {
        socket_address: { address: '127.0.0.1', port_value: options.upstreamPort },
      };
    }
  }

  const configPath = join(dir.path, 'envoy.yaml');
  const adminPath = join(dir.path, 'admin-address');
  writeFileSync(configPath, stringify(config));
  const child = startChild('envoy', options.bin, [
    '--config-path',
    configPath,
    '--admin-address-path',
    adminPath,
    '--disable-hot-restart',
    '--log-level',
    'warn',
    '--concurrency',
    '1',
  ]);

  const adminUrl = `http://${await waitForFile(adminPath, child)}`;
  const url = await listenerUrl(adminUrl, child);
  await warmUp(url);
  return {
    child,
    url,
    adminUrl,
    stop: async () => {
      await child.stop('SIGTERM');
      dir.remove();
    },
  };
}

function addressOf(address: string) {
  if (address.startsWith('unix:')) return { pipe: { path: address.slice('unix:'.length) } };
  const index = address.lastIndexOf(':');
  return {
    socket_address: {
      address: address.slice(0, index),
      port_value: Number(address.slice(index + 1)),
    },
  };
}

async function waitForFile(path: string, child: Child, timeoutMs = 20_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.process.exitCode !== null) throw new Error(`envoy exited\n${child.tail()}`);
    try {
      const text = readFileSync(path, 'utf8').trim();
      if (text !== '') return text;
    } catch {
      // not written yet
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`envoy did not write its admin address\n${child.tail()}`);
}

/** Waits until Envoy reports the ingress listener bound and returns its URL. */
async function listenerUrl(adminUrl: string, child: Child, timeoutMs = 20_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const ready = await fetch(`${adminUrl}/ready`);
      const listeners = (await (await fetch(`${adminUrl}/listeners?format=json`)).json()) as {
        listener_statuses?: {
          local_address?: { socket_address?: { address: string; port_value: number } };
        }[];
      };
      const socket = listeners.listener_statuses?.[0]?.local_address?.socket_address;
      if (ready.status === 200 && socket?.port_value)
        return `http://127.0.0.1:${socket.port_value}`;
    } catch {
      // admin not up yet
    }
    if (child.process.exitCode !== null) throw new Error(`envoy exited\n${child.tail()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`envoy listener not ready\n${child.tail()}`);
}

/**
 * Envoy opens its HTTP/2 connection to tokengate on the first check, which on a loaded machine
 * can outlast the 200 ms check timeout (a 503). Tests start once a check has come back.
 */
async function warmUp(url: string, attempts = 50): Promise<void> {
  for (let attempt = 0; attempt < attempts; attempt++) {
    if ((await fetch(`${url}/`)).status !== 503) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
