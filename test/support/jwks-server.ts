import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A real JWKS endpoint on a loopback port that can rotate keys, go down and come back. */
export class JwksServer {
  requests = 0;
  private jwks: unknown;
  private available = true;
  private server: Server | undefined;
  port = 0;

  constructor(jwks: unknown) {
    this.jwks = jwks;
  }

  get uri(): string {
    return `http://127.0.0.1:${this.port}/.well-known/jwks.json`;
  }

  async start(port = 0): Promise<this> {
    this.server = createServer((request, response) => {
      this.requests += 1;
      if (!this.available) {
        response.writeHead(503).end();
        return;
      }
      response
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify(this.jwks));
    });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  setKeys(jwks: unknown): void {
    this.jwks = jwks;
  }

  /** Answers 503 until {@link up}; `close: true` stops listening altogether instead. */
  async down(options: { close?: boolean } = {}): Promise<void> {
    this.available = false;
    if (options.close) await this.stop();
  }

  async up(): Promise<void> {
    this.available = true;
    if (this.server === undefined) await this.start(this.port);
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server === undefined) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
