import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** An upstream that answers every request with the headers it received, as JSON. */
export class EchoUpstream {
  readonly received: { method: string; url: string; headers: IncomingHttpHeaders }[] = [];
  private server: Server | undefined;
  port = 0;

  async start(): Promise<this> {
    this.server = createServer((request, response) => {
      const seen = {
        method: request.method ?? '',
        url: request.url ?? '',
        headers: request.headers,
      };
      this.received.push(seen);
      request.resume();
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(seen));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (server === undefined) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
