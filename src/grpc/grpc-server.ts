import * as grpc from '@grpc/grpc-js';
import { HealthImplementation, type ServingStatus } from 'grpc-health-check';
import type { Logger } from 'pino';
import type { Authorizer } from '../decision/authorizer.js';
import { toAuthzRequest, type CheckRequestMessage } from './check-request.js';
import { Admission } from './admission.js';
import { withFastCheckCodec } from './fast-check-request.js';
import type { Decision } from '../decision/decision.js';
import { authorizationService, CHECK_SERVICE } from './protos.js';

/** Health service names: `''` and the ext_authz service follow readiness; this one liveness. */
export const LIVENESS_SERVICE = 'tokengate.liveness';

export interface GrpcServerOptions {
  /** `host:port` (port 0 picks a free one) or `unix:/path`. */
  address: string;
  authorizer: Authorizer;
  log: Logger;
  /** Most checks in progress at once (see {@link Admission}); 1,024 when absent. */
  maxInFlight?: number;
  /** Counts checks in flight. */
  metrics?: { checkStarted(): void; checkFinished(): void };
}

/** The ext_authz and health services on one listener. */
export class GrpcServer {
  private readonly server = new grpc.Server({
    'grpc.max_receive_message_length': 4 * 1024 * 1024,
    'grpc.keepalive_permit_without_calls': 1,
    // channelz stays on although nothing reads it (about 4 % of a cached check): with it off,
    // grpc-js 1.14 does not track sessions, so forceShutdown leaves open streams (a health Watch)
    // alive and the process never exits (test/service/lifecycle.test.ts).
  });
  private readonly health = new HealthImplementation({
    '': 'NOT_SERVING',
    [CHECK_SERVICE]: 'NOT_SERVING',
    [LIVENESS_SERVICE]: 'SERVING',
  });
  /** The bound address, with the real port when 0 was asked for. */
  address = '';
  /** Refuses late checks and those past the in-flight bound. */
  readonly admission: Admission;

  constructor(private readonly options: GrpcServerOptions) {
    this.admission = new Admission(options.maxInFlight ?? 1_024);
    this.server.addService(withFastCheckCodec(authorizationService()), { Check: this.check });
    this.health.addToServer(this.server);
  }

  async listen(): Promise<string> {
    const { address } = this.options;
    const port = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (error, bound) =>
        error ? reject(error) : resolve(bound),
      ),
    );
    this.address = address.startsWith('unix:') ? address : address.replace(/:\d+$/, `:${port}`);
    return this.address;
  }

  /** Sets the readiness status of `''` and the ext_authz service. */
  setReady(ready: boolean): void {
    const status: ServingStatus = ready ? 'SERVING' : 'NOT_SERVING';
    this.health.setStatus('', status);
    this.health.setStatus(CHECK_SERVICE, status);
  }

  /** Stops accepting calls, lets in-flight ones finish, and forces the rest after `graceMs`. */
  async shutdown(graceMs: number): Promise<'graceful' | 'forced'> {
    this.setReady(false);
    this.health.setStatus(LIVENESS_SERVICE, 'NOT_SERVING');
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.server.forceShutdown();
        resolve('forced');
      }, graceMs);
      this.server.tryShutdown(() => {
        clearTimeout(timer);
        resolve('graceful');
      });
    });
  }

  private readonly check: grpc.handleUnaryCall<CheckRequestMessage, Decision> = (
    call,
    callback,
  ) => {
    const refusal = this.admission.admit(call.getDeadline());
    if (refusal !== undefined) {
      callback(refusal);
      return;
    }

    let request;
    try {
      request = toAuthzRequest(call.request);
    } catch (error) {
      this.options.log.error(
        { err: { message: (error as Error).message } },
        'unreadable check request',
      );
      this.admission.release();
      callback({ code: grpc.status.INVALID_ARGUMENT, details: 'unreadable check request' });
      return;
    }

    const metrics = this.options.metrics;
    metrics?.checkStarted();
    const finish = (error: grpc.ServiceError | null, response?: Decision) => {
      this.admission.release();
      metrics?.checkFinished();
      try {
        callback(error, response);
      } catch (fault) {
        this.options.log.error(
          { err: { message: (fault as Error).message } },
          'answering a check failed',
        );
      }
    };

    // The authorizer never throws; should it ever, the check ends as a gRPC error, never as an
    // unhandled rejection that would take the process down. The decision is encoded by the
    // service's response serializer (`withFastCheckCodec`).
    this.options.authorizer
      .check(request)
      .then(
        (response) => finish(null, response),
        (error: Error) => {
          this.options.log.error({ err: { message: error?.message } }, 'check handler fault');
          finish({ code: grpc.status.INTERNAL, details: 'internal error' } as grpc.ServiceError);
        },
      );
  };
}
