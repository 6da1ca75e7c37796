import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { MetricsConfig } from '../../config/config.classes.js';
import { HttpMetrics } from './http-metrics.js';
import { presentsMetricsToken } from './metrics-access.js';

/**
 * METRICS_PORT: `GET /metrics` on a listener of its own (METRICS_HOST, 127.0.0.1 by default),
 * off the public port, for a Prometheus on the same host or the internal network. It serves
 * nothing else; METRICS_TOKEN, when set, is required here too.
 */
@Injectable()
export class MetricsListener implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Metrics');
  private server: Server | undefined;

  constructor(
    private readonly metrics: HttpMetrics,
    private readonly config: MetricsConfig,
  ) {}

  /** Where the listener is bound (the real port when METRICS_PORT=0), or null when off. */
  address(): { host: string; port: number } | null {
    const address = this.server?.address() as AddressInfo | null | undefined;
    return address ? { host: address.address, port: address.port } : null;
  }

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.port === null) return;
    const server = createServer((request, response) => {
      const path = (request.url ?? '').split('?')[0];
      if (request.method !== 'GET' || path !== '/metrics') {
        response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
        return;
      }
      const token = this.config.token;
      if (token !== null && !presentsMetricsToken(request.headers.authorization, token)) {
        response
          .writeHead(401, {
            'content-type': 'text/plain',
            'www-authenticate': 'Bearer realm="metrics"',
          })
          .end('a valid metrics bearer token is required\n');
        return;
      }
      this.metrics.render().then(
        ({ contentType, body }) =>
          response.writeHead(200, { 'content-type': contentType }).end(body),
        () => response.writeHead(500, { 'content-type': 'text/plain' }).end('metrics failed\n'),
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.config.port ?? 0, this.config.host, () => resolve());
    });
    this.server = server;
    this.logger.log({ msg: 'metrics listening', ...this.address() });
  }

  async onApplicationShutdown(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server === undefined) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
