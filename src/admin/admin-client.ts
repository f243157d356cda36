import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { revocationsService } from './admin-protos.js';

export interface AdminClientOptions {
  /** `host:port` of the admin API. */
  address: string;
  /** Bearer token sent as `authorization` metadata. */
  token?: string;
  /** PEM files: the CA that signed the server's certificate, and the client's own pair. */
  ca?: string;
  cert?: string;
  key?: string;
  /** Per-call deadline in milliseconds; 5000 by default. */
  timeoutMs?: number;
}

/** A client of `tokengate.admin.v1.Revocations`, for the CLI and tests. */
export class AdminClient {
  private readonly client: grpc.Client & Record<string, Function>;

  constructor(private readonly options: AdminClientOptions) {
    const Client = grpc.makeGenericClientConstructor(revocationsService(), 'Revocations');
    this.client = new Client(options.address, credentialsOf(options)) as never;
  }

  call(method: 'Revoke' | 'Unrevoke' | 'List' | 'Status', request: object): Promise<any> {
    const metadata = new grpc.Metadata();
    if (this.options.token !== undefined) {
      metadata.set('authorization', `Bearer ${this.options.token}`);
    }
    const deadline = Date.now() + (this.options.timeoutMs ?? 5_000);
    return new Promise((resolve, reject) =>
      this.client[method]!(
        request,
        metadata,
        { deadline },
        (error: Error | null, value: unknown) => (error ? reject(error) : resolve(value)),
      ),
    );
  }

  close(): void {
    this.client.close();
  }
}

function credentialsOf(options: AdminClientOptions): grpc.ChannelCredentials {
  if (options.ca === undefined && options.cert === undefined) {
    return grpc.credentials.createInsecure();
  }
  if ((options.cert === undefined) !== (options.key === undefined)) {
    throw new Error('--cert and --key go together');
  }
  return grpc.credentials.createSsl(
    options.ca === undefined ? null : readFileSync(options.ca),
    options.key === undefined ? null : readFileSync(options.key),
    options.cert === undefined ? null : readFileSync(options.cert),
  );
}
