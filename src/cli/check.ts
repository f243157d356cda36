import { parseArgs } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { authorizationService } from '../grpc/protos.js';

/** `tokengate check`: one Check against a running tokengate, printed as JSON. Exit 0 on allow. */
export async function runCheck(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      address: { type: 'string', default: '127.0.0.1:9001' },
      token: { type: 'string' },
      method: { type: 'string', default: 'GET' },
      path: { type: 'string', default: '/' },
      host: { type: 'string', default: 'localhost' },
      header: { type: 'string', multiple: true, default: [] },
    },
    strict: true,
  });

  const headers: Record<string, string> = {
    ':authority': values.host!,
    ':method': values.method!,
    ':path': values.path!,
  };
  if (values.token !== undefined) headers.authorization = `Bearer ${values.token}`;
  for (const pair of values.header!) {
    const index = pair.indexOf(':');
    if (index <= 0) throw new Error(`--header expects "name: value", got "${pair}"`);
    headers[pair.slice(0, index).trim().toLowerCase()] = pair.slice(index + 1).trim();
  }

  const Client = grpc.makeGenericClientConstructor(authorizationService(), 'Authorization');
  const client = new Client(values.address!, grpc.credentials.createInsecure());
  const request = {
    attributes: {
      source: { address: { socket_address: { address: '127.0.0.1', port_value: 0 } } },
      request: { http: { method: values.method, path: values.path, host: values.host, headers } },
    },
  };

  const response = await new Promise<Record<string, unknown>>((resolve, reject) => {
    client.Check!(
      request,
      { deadline: Date.now() + 5_000 },
      (error: Error | null, value: Record<string, unknown>) =>
        error ? reject(error) : resolve(value),
    );
  });
  client.close();
  process.stdout.write(`${JSON.stringify(response, null, 2)}\n`);
  return (response.status as { code?: number } | undefined)?.code ? 1 : 0;
}
