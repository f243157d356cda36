import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

const require = createRequire(import.meta.url);

/** Folders holding Envoy's data-plane API and its imports, as `@grpc/grpc-js-xds` ships them. */
export function envoyProtoDirs(): string[] {
  const root = join(dirname(require.resolve('@grpc/grpc-js-xds/package.json')), 'deps');
  return ['envoy-api', 'googleapis', 'protoc-gen-validate', 'xds'].map((dir) => join(root, dir));
}

/** The project's own protos. */
export const PROJECT_PROTO_DIR = join(dirname(fileURLToPath(import.meta.url)), '../../../proto');

export const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: Number,
  enums: Number,
  defaults: false,
  oneofs: true,
};

let authorization: protoLoader.PackageDefinition | undefined;

/** Envoy's `envoy.service.auth.v3` package, loaded once. */
export function authorizationPackage(): protoLoader.PackageDefinition {
  authorization ??= protoLoader.loadSync('envoy/service/auth/v3/external_auth.proto', {
    ...LOADER_OPTIONS,
    includeDirs: envoyProtoDirs(),
  });
  return authorization;
}

export const CHECK_SERVICE = 'envoy.service.auth.v3.Authorization';

export function authorizationService(): grpc.ServiceDefinition {
  return authorizationPackage()[CHECK_SERVICE] as grpc.ServiceDefinition;
}
