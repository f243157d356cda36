/**
 * The no-op ext_authz server every figure is compared with: `@grpc/grpc-js` with the Envoy protos
 * loaded by `@grpc/proto-loader`, answering every Check with OK and doing nothing else. It is
 * part of the benchmark, not of the product.
 *
 *   node dist/bench/baseline-server.js ADDRESS    prints `listening ADDRESS` once bound
 */
import * as grpc from '@grpc/grpc-js';
import { authorizationService } from '../src/grpc/protos.js';

const address = process.argv[2] ?? '127.0.0.1:0';
const server = new grpc.Server();
const OK = { status: { code: 0 }, ok_response: {} };

server.addService(authorizationService(), {
  Check: (_call: unknown, callback: grpc.sendUnaryData<object>) => callback(null, OK),
});

server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (error, port) => {
  if (error) {
    process.stderr.write(`baseline: ${error.message}\n`);
    process.exit(1);
  }
  const bound = address.startsWith('unix:') ? address : address.replace(/:\d+$/, `:${port}`);
  process.stdout.write(`listening ${bound}\n`);
});

process.on('SIGTERM', () => server.tryShutdown(() => process.exit(0)));
