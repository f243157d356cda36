import { parseArgs } from 'node:util';
import { validateConfig } from '../config/load.js';
import { DevIssuer, devConfig } from '../dev/dev-issuer.js';
import { serveUntilSignal } from './serve.js';

/**
 * `tokengate dev`: the service on the embedded development issuer, bound to loopback. It prints a
 * token and how to use it, and serves fresh ones at `GET /dev/token` on the HTTP port.
 */
export async function runDev(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      grpc: { type: 'string', default: '127.0.0.1:9001' },
      http: { type: 'string', default: '127.0.0.1:9090' },
    },
    strict: true,
  });

  const issuer = await DevIssuer.create();
  const loaded = validateConfig(
    devConfig(values.grpc!, values.http!),
    '(embedded development config)',
  );

  return serveUntilSignal(
    loaded,
    { keySources: { dev: { kind: 'static', jwks: issuer.jwks } } },
    async (service) => {
      service.http.route('/dev/token', async (request) => {
        const query = new URL(request.url ?? '/', 'http://localhost').searchParams;
        const token = await issuer.mint({
          subject: query.get('sub') ?? undefined,
          scope: query.get('scope') ?? undefined,
        });
        return { status: 200, body: `${token}\n` };
      });

      const token = await issuer.mint();
      const grpc = service.grpc.address;
      const http = service.http.address;
      process.stderr.write(
        [
          '',
          'tokengate is running on its development issuer (a key pair generated at start).',
          `  ext_authz gRPC: ${grpc}    health/readiness: http://${http}/readyz`,
          '',
          'A token, valid for 15 minutes (sub=dev-user, scope="orders:read orders:write"):',
          '',
          token,
          '',
          'Try it:',
          `  npx tokengate check --address ${grpc} --token ${token.slice(0, 12)}... (the whole token)`,
          `  npx tokengate check --address ${grpc}             # no token: 401 with a challenge`,
          `  curl -s http://${http}/dev/token?sub=alice        # a fresh token`,
          'Through a real Envoy: npm run demo',
          '',
        ].join('\n'),
      );
    },
  );
}
