import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';

/** A route answers with a status, a content type and a body; it may be async. */
export type Route = (request: IncomingMessage) => RouteResult | Promise<RouteResult>;

export interface RouteResult {
  status: number;
  contentType?: string;
  body: string;
}

/** The operations port: health, readiness and whatever routes the features register. */
export class HttpServer {
  private readonly routes = new Map<string, Route>();
  private readonly server: Server;
  address = '';

  constructor(
    private readonly bind: string,
    private readonly log: Logger,
  ) {
    this.server = createServer((request, response) => void this.handle(request, response));
  }

  /** Adds a GET route for an exact path. */
  route(path: string, handler: Route): void {
    this.routes.set(path, handler);
  }

  async listen(): Promise<string> {
    const { host, port } = splitAddress(this.bind);
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ host, port }, () => resolve());
    });
    const bound = this.server.address() as AddressInfo;
    this.address = `${bound.family === 'IPv6' ? `[${bound.address}]` : bound.address}:${bound.port}`;
    return this.address;
  }

  async close(): Promise<void> {
    this.server.closeIdleConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = (request.url ?? '/').split('?')[0]!;
    const route = this.routes.get(path);
    let result: RouteResult;
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      result = { status: 405, body: 'method not allowed\n' };
    } else if (route === undefined) {
      result = { status: 404, body: 'not found\n' };
    } else {
      try {
        result = await route(request);
      } catch (error) {
        this.log.error({ path, err: { message: (error as Error).message } }, 'http route failed');
        result = { status: 500, body: 'internal error\n' };
      }
    }
    response.writeHead(result.status, {
      'content-type': result.contentType ?? 'text/plain; charset=utf-8',
    });
    response.end(request.method === 'HEAD' ? undefined : result.body);
  }
}

function splitAddress(address: string): { host: string; port: number } {
  const index = address.lastIndexOf(':');
  return {
    host: address.slice(0, index).replace(/^\[|\]$/g, ''),
    port: Number(address.slice(index + 1)),
  };
}
