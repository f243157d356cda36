import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { LOADER_OPTIONS, PROJECT_PROTO_DIR } from '../grpc/protos.js';
import type { EntryKind } from '../revocation/entry.js';

export const REVOCATIONS_SERVICE = 'tokengate.admin.v1.Revocations';

let definition: protoLoader.PackageDefinition | undefined;

/** `tokengate.admin.v1.Revocations`, loaded once from the project's `proto/` folder. */
export function revocationsService(): grpc.ServiceDefinition {
  definition ??= protoLoader.loadSync('tokengate/admin/v1/revocations.proto', {
    ...LOADER_OPTIONS,
    enums: String,
    includeDirs: [PROJECT_PROTO_DIR],
  });
  return definition[REVOCATIONS_SERVICE] as grpc.ServiceDefinition;
}

export type KindName =
  'KIND_UNSPECIFIED' | 'KIND_JTI' | 'KIND_DIGEST' | 'KIND_SUBJECT' | 'KIND_CLIENT';

const TO_KIND: Record<string, EntryKind> = {
  KIND_JTI: 'jti',
  KIND_DIGEST: 'digest',
  KIND_SUBJECT: 'subject',
  KIND_CLIENT: 'client',
};

/** The entry kind of a proto `Kind`, or undefined for `KIND_UNSPECIFIED` and unknown values. */
export function kindFromProto(kind: unknown): EntryKind | undefined {
  return typeof kind === 'string' ? TO_KIND[kind] : undefined;
}

export function kindToProto(kind: EntryKind): KindName {
  return `KIND_${kind.toUpperCase()}` as KindName;
}
