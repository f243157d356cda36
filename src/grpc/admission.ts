import * as grpc from '@grpc/grpc-js';

/** Why a check was refused before any work was done. */
export type Refusal = { code: grpc.status; details: string };

/**
 * Bounds the checks in progress and refuses those whose gRPC deadline has already passed, so
 * that under overload a check is answered at once with a clear status instead of queueing.
 */
export class Admission {
  private inFlight = 0;
  /** Checks refused so far, by status name. */
  readonly refused = { deadline_exceeded: 0, resource_exhausted: 0 };

  /** @param maxInFlight most checks admitted and not yet answered. */
  constructor(readonly maxInFlight: number) {}

  get current(): number {
    return this.inFlight;
  }

  /**
   * Admits a check (the caller must {@link release} it once answered) or says why not.
   * @param deadline the call's deadline, as grpc-js reports it; `Infinity` when none was sent.
   */
  admit(deadline: grpc.Deadline, now = Date.now()): Refusal | undefined {
    const at = deadline instanceof Date ? deadline.getTime() : deadline;
    if (at <= now) {
      this.refused.deadline_exceeded += 1;
      return {
        code: grpc.status.DEADLINE_EXCEEDED,
        details: 'deadline passed before the check began',
      };
    }
    if (this.inFlight >= this.maxInFlight) {
      this.refused.resource_exhausted += 1;
      return { code: grpc.status.RESOURCE_EXHAUSTED, details: 'too many checks in progress' };
    }
    this.inFlight += 1;
    return undefined;
  }

  release(): void {
    this.inFlight -= 1;
  }
}
