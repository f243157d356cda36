import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { RevocationEntry } from '../revocation/entry.js';
import { UnknownIssuerError, type Revocations } from '../revocation/revocations.js';
import { StoreFullError, StoreUnavailableError } from '../revocation/store.js';
import { AdminAuthError, AdminAuthenticator, type AdminAuthOptions } from './admin-auth.js';
import { kindFromProto, kindToProto, revocationsService } from './admin-protos.js';

export interface AdminServerOptions extends AdminAuthOptions {
  revocations: Revocations;
  log: Logger;
}

/** A refused request, answered with INVALID_ARGUMENT. */
class BadRequest extends Error {}

const DIGEST = /^[A-Za-z0-9_-]{43}$/;
const LOOPBACK = /^(127\.\d+\.\d+\.\d+|\[::1\]|localhost):\d+$/;

/**
 * The `tokengate.admin.v1.Revocations` service on its own listener. Every call is authenticated
 * first and audit-logged after, with who, what and the outcome; never a token.
 */
export class AdminServer {
  private readonly server = new grpc.Server();
  private readonly auth: AdminAuthenticator;
  private readonly audit: Logger;
  /** The bound address, with the real port when 0 was asked for. */
  address = '';

  constructor(private readonly options: AdminServerOptions) {
    this.auth = new AdminAuthenticator(options);
    this.audit = options.log.child({ component: 'admin-audit' }, { level: 'info' });
    const revocations = options.revocations;

    this.server.addService(revocationsService(), {
      Revoke: this.handler('revoke', async (request, actor) => {
        const { kind, issuer, value } = target(request.target);
        const before = positive(request.before_unix_ms);
        const expires = positive(request.token_expires_unix_ms);
        const entry = await revocations.revoke({
          kind,
          issuer,
          value,
          ...(before === undefined ? {} : { before }),
          ...(expires === undefined ? {} : { tokenExpiresAt: expires }),
          revokedBy: actor,
          reason: typeof request.reason === 'string' ? request.reason : undefined,
        });
        return { response: { entry: toProto(entry) }, detail: describe(entry) };
      }),
      Unrevoke: this.handler('unrevoke', async (request) => {
        const { kind, issuer, value } = target(request.target);
        const removed = await revocations.unrevoke(kind, issuer, value);
        return {
          response: { removed },
          detail: { kind, issuer: revocations.resolveIssuer(issuer), value, removed },
        };
      }),
      List: this.handler('list', async (request) => {
        const kind = request.kind === 'KIND_UNSPECIFIED' ? undefined : kindFromProto(request.kind);
        const issuer =
          typeof request.issuer === 'string' && request.issuer !== '' ? request.issuer : undefined;
        const limit = Math.min(Number(request.limit) || 1_000, 100_000);
        const { entries, total } = await revocations.list({ issuer, kind }, limit);
        return {
          response: { entries: entries.map(toProto), total },
          detail: { issuer, kind, returned: entries.length, total },
        };
      }),
      Status: this.handler('status', async () => {
        const status = revocations.status();
        return {
          response: {
            ...status,
            mirror_age_seconds: Number.isFinite(status.mirrorAgeSeconds)
              ? status.mirrorAgeSeconds
              : -1,
          },
          detail: {},
        };
      }),
    });
  }

  async listen(address: string): Promise<string> {
    const credentials = this.credentials();
    if (credentials === grpc.ServerCredentials.createInsecure && !LOOPBACK.test(address)) {
      this.options.log.warn({ address }, 'admin API without TLS on a non-loopback address');
    }
    const port = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync(address, credentials(), (error, bound) =>
        error ? reject(error) : resolve(bound),
      ),
    );
    this.address = address.replace(/:\d+$/, `:${port}`);
    return this.address;
  }

  /** Stops accepting calls and lets running ones finish for up to `graceMs`. */
  shutdown(graceMs = 2_000): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, graceMs);
      this.server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private credentials(): () => grpc.ServerCredentials {
    const tls = this.options.config.tls;
    if (tls === undefined) return grpc.ServerCredentials.createInsecure;
    const pair = { cert_chain: readFileSync(tls.cert), private_key: readFileSync(tls.key) };
    const ca = tls.clientCa === undefined ? null : readFileSync(tls.clientCa);
    return () => grpc.ServerCredentials.createSsl(ca, [pair], ca !== null);
  }

  private handler(
    action: string,
    run: (
      request: Record<string, any>,
      actor: string,
    ) => Promise<{ response: object; detail: Record<string, unknown> }>,
  ): grpc.handleUnaryCall<Record<string, any>, object> {
    return (call, callback) => {
      const at = new Date().toISOString();
      const peer = call.getPeer();
      void (async () => {
        let actor: string;
        try {
          actor = await this.auth.authenticate(call);
        } catch (error) {
          const refusal =
            error instanceof AdminAuthError
              ? error
              : new AdminAuthError(grpc.status.INTERNAL, 'authentication fault');
          this.audit.warn(
            { action, outcome: 'refused', why: refusal.reason, peer, at },
            'admin call refused',
          );
          callback({ code: refusal.status, details: refusal.reason });
          return;
        }

        try {
          const { response, detail } = await run(call.request, actor);
          this.audit.info({ action, actor, outcome: 'ok', ...detail, peer, at }, 'admin action');
          callback(null, response);
        } catch (error) {
          const code = statusOf(error);
          const message = (error as Error).message;
          this.audit.warn(
            { action, actor, outcome: 'failed', why: message, peer, at },
            'admin action failed',
          );
          callback({ code, details: code === grpc.status.INTERNAL ? 'internal error' : message });
        }
      })();
    };
  }
}

function statusOf(error: unknown): grpc.status {
  if (error instanceof BadRequest || error instanceof RangeError)
    return grpc.status.INVALID_ARGUMENT;
  if (error instanceof UnknownIssuerError) return grpc.status.INVALID_ARGUMENT;
  if (error instanceof StoreUnavailableError) return grpc.status.UNAVAILABLE;
  if (error instanceof StoreFullError) return grpc.status.RESOURCE_EXHAUSTED;
  return grpc.status.INTERNAL;
}

function target(value: unknown) {
  const message = (value ?? {}) as Record<string, unknown>;
  const kind = kindFromProto(message.kind);
  if (kind === undefined) throw new BadRequest('target.kind is required');
  if (typeof message.issuer !== 'string' || message.issuer === '') {
    throw new BadRequest('target.issuer is required');
  }
  if (typeof message.value !== 'string' || message.value === '') {
    throw new BadRequest('target.value is required');
  }
  if (kind === 'digest' && !DIGEST.test(message.value)) {
    throw new BadRequest('a digest target is 43 characters of base64url (SHA-256)');
  }
  return { kind, issuer: message.issuer, value: message.value };
}

function positive(value: unknown): number | undefined {
  const number = Number(value ?? 0);
  return Number.isFinite(number) && number > 0 ? number : undefined;
}

function toProto(entry: RevocationEntry) {
  return {
    kind: kindToProto(entry.kind),
    issuer: entry.issuer,
    value: entry.value,
    before_unix_ms: entry.before ?? 0,
    expires_unix_ms: entry.expiresAt,
    revoked_unix_ms: entry.revokedAt,
    revoked_by: entry.revokedBy ?? '',
    reason: entry.reason ?? '',
  };
}

function describe(entry: RevocationEntry): Record<string, unknown> {
  return {
    kind: entry.kind,
    issuer: entry.issuer,
    value: entry.value,
    ...(entry.before === undefined ? {} : { before: new Date(entry.before).toISOString() }),
    expires: new Date(entry.expiresAt).toISOString(),
    ...(entry.reason === undefined ? {} : { reason: entry.reason }),
  };
}
