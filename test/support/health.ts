import * as grpc from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';

export type Status = 'UNKNOWN' | 'SERVING' | 'NOT_SERVING' | 'SERVICE_UNKNOWN';

/** A `grpc.health.v1.Health` client for tests: one-shot checks and awaited status changes. */
export class HealthClient {
  private readonly client: grpc.Client & Record<string, Function>;

  constructor(address: string) {
    const Client = grpc.makeGenericClientConstructor(healthService as never, 'Health');
    this.client = new Client(address, grpc.credentials.createInsecure()) as never;
  }

  /** The status of `service`; rejects with the gRPC error (NOT_FOUND for an unknown name). */
  check(service = '', deadlineMs = 5_000): Promise<Status> {
    return new Promise((resolve, reject) =>
      this.client.Check!(
        { service },
        { deadline: Date.now() + deadlineMs },
        (error: grpc.ServiceError | null, response: { status: Status }) =>
          error ? reject(error) : resolve(response.status),
      ),
    );
  }

  /**
   * Opens a Watch stream on `service`. `until(status)` resolves when that status arrives (or
   * already has), rejecting after `timeoutMs`; `close()` cancels the stream.
   */
  watch(service = '') {
    const seen: Status[] = [];
    const waiters: { status: Status; resolve: () => void }[] = [];
    const call = this.client.Watch!({ service }) as grpc.ClientReadableStream<{ status: Status }>;
    call.on('data', ({ status }) => {
      seen.push(status);
      for (const waiter of waiters.filter((w) => w.status === status)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    });
    call.on('error', () => undefined);
    return {
      seen,
      until: (status: Status, timeoutMs = 10_000) =>
        new Promise<void>((resolve, reject) => {
          if (seen.includes(status)) return resolve();
          const timer = setTimeout(
            () => reject(new Error(`no ${status} within ${timeoutMs} ms (saw ${seen.join(', ')})`)),
            timeoutMs,
          );
          waiters.push({
            status,
            resolve: () => {
              clearTimeout(timer);
              resolve();
            },
          });
        }),
      close: () => call.cancel(),
    };
  }

  close(): void {
    this.client.close();
  }
}
