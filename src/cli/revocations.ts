import { parseArgs } from 'node:util';
import { ADMIN_OPTIONS, adminClientOf } from './revoke.js';

const KINDS: Record<string, string> = {
  jti: 'KIND_JTI',
  digest: 'KIND_DIGEST',
  subject: 'KIND_SUBJECT',
  client: 'KIND_CLIENT',
};

/** `tokengate revocations list|status`: reads the revocation set through the admin API. */
export async function runRevocations(args: string[]): Promise<number> {
  const [action, ...rest] = args;
  if (action !== 'list' && action !== 'status') {
    process.stderr.write('usage: tokengate revocations list|status [--admin ADDR] ...\n');
    return 2;
  }
  const { values } = parseArgs({
    args: rest,
    options: {
      ...ADMIN_OPTIONS,
      issuer: { type: 'string' },
      kind: { type: 'string' },
      limit: { type: 'string', default: '1000' },
    },
    strict: true,
  });
  if (values.kind !== undefined && KINDS[values.kind] === undefined) {
    process.stderr.write(
      `tokengate revocations: --kind is one of ${Object.keys(KINDS).join(', ')}\n`,
    );
    return 2;
  }

  const client = adminClientOf(values);
  try {
    const response =
      action === 'status'
        ? await client.call('Status', {})
        : await client.call('List', {
            issuer: values.issuer ?? '',
            kind: values.kind === undefined ? 'KIND_UNSPECIFIED' : KINDS[values.kind],
            limit: Number(values.limit),
          });
    process.stdout.write(`${JSON.stringify(response, null, 2)}\n`);
    return 0;
  } finally {
    client.close();
  }
}
