import { Controller, Get, Headers, Res, VERSION_NEUTRAL } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { AppError, CommonErrors } from '../../common/app-error.js';
import { Public } from '../../common/permissions.js';
import { MetricsConfig } from '../../config/config.classes.js';
import { presentsMetricsToken } from './metrics-access.js';
import { HttpMetrics } from './http-metrics.js';

/**
 * `GET /metrics` on the public port: Prometheus text format for a scraper holding
 * METRICS_TOKEN (`Authorization: Bearer <token>`). Without a token configured the route
 * answers 404 like any unknown path: metrics are then only on the METRICS_PORT listener.
 */
@ApiExcludeController()
@Controller({ path: 'metrics', version: VERSION_NEUTRAL })
export class MetricsController {
  constructor(
    private readonly metrics: HttpMetrics,
    private readonly config: MetricsConfig,
  ) {}

  @Get()
  @Public()
  async scrape(
    @Headers('authorization') authorization: string | undefined,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    if (this.config.token === null) throw CommonErrors.notFound();
    if (!presentsMetricsToken(authorization, this.config.token)) {
      throw new AppError(
        'AUTHENTICATION_FAILED',
        'A valid metrics bearer token is required',
        undefined,
        {
          'WWW-Authenticate': 'Bearer realm="metrics"',
        },
      );
    }
    const { contentType, body } = await this.metrics.render();
    await reply.header('content-type', contentType).send(body);
  }
}
