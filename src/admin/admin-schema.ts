import { z } from 'zod';

const address = z
  .string()
  .regex(/^(\[[0-9a-fA-F:.]+\]:\d{1,5}|[^:\s]+:\d{1,5})$/, 'expected "host:port"');

/**
 * `admin`: the revocation admin API. Off unless `address` is set; it never shares the ext_authz
 * port. Callers authenticate with a client certificate from `tls.clientCa` or a bearer token of
 * a configured issuer carrying `bearer.scope`; at least one of the two must be configured.
 */
export const adminSchema = z
  .strictObject({
    /** `host:port` of the admin listener; absent means no admin API. */
    address: address.optional(),
    tls: z
      .strictObject({
        /** PEM server certificate chain file. */
        cert: z.string().min(1),
        /** PEM private key file of `cert`. */
        key: z.string().min(1),
        /** PEM CA file; when set, every connection must present a client certificate it signed. */
        clientCa: z.string().min(1).optional(),
      })
      .optional(),
    bearer: z
      .strictObject({
        /** Issuer names (from `issuers`) whose tokens may call the admin API; all when empty. */
        issuers: z.array(z.string().min(1)).default([]),
        /** Scope the token must carry in `scope` (space-separated) or `scp` (array). */
        scope: z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/, 'expected one scope token'),
      })
      .optional(),
  })
  .refine((value) => value.address === undefined || value.tls?.clientCa || value.bearer, {
    message: 'the admin API needs "tls.clientCa" or "bearer" for authentication',
    path: ['address'],
  })
  .refine((value) => value.address === undefined || value.address !== '', {
    message: 'expected an address',
    path: ['address'],
  });

export type AdminConfig = z.output<typeof adminSchema>;
