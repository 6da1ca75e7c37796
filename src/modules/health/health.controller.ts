import {
  Controller,
  Get,
  HttpCode,
  Inject,
  ServiceUnavailableException,
  VERSION_NEUTRAL,
} from '@nestjs/common';
import {
  ApiOkResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import {
  HealthCheckService,
  HealthIndicatorService,
  TypeOrmHealthIndicator,
} from '@nestjs/terminus';
import { CommonErrors } from '../../common/app-error.js';
import { Public } from '../../common/permissions.js';
import { HealthStatusDto } from './health.dto.js';
import { REDIS, assertRedisServing, type RedisClient } from '../../redis/redis-client.js';

const CHECK_TIMEOUT_MS = 1_500;

interface TerminusFailure {
  error?: Record<string, { status: string; message?: string }>;
  details?: Record<string, { status: string; message?: string }>;
}

@ApiTags('health')
@Controller({ path: 'health', version: VERSION_NEUTRAL })
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: TypeOrmHealthIndicator,
    private readonly indicators: HealthIndicatorService,
    @Inject(REDIS) private readonly redis: RedisClient,
  ) {}

  @Get()
  @Public()
  @HttpCode(200)
  @ApiOperation({ summary: 'Process is up' })
  @ApiOkResponse({ type: HealthStatusDto })
  status(): HealthStatusDto {
    return { status: 'ok' };
  }

  @Get('live')
  @Public()
  @ApiOperation({ summary: 'Liveness: 200 while the process runs' })
  @ApiOkResponse({ type: HealthStatusDto })
  live(): HealthStatusDto {
    return { status: 'ok' };
  }

  @Get('ready')
  @Public()
  @ApiOperation({
    summary:
      'Readiness: 200 only when Postgres and Redis answer (on a Redis Cluster: state ok, every slot served)',
  })
  @ApiOkResponse({ type: HealthStatusDto })
  @ApiServiceUnavailableResponse({
    description: 'SERVICE_UNAVAILABLE; details name each dependency that failed',
  })
  async ready(): Promise<HealthStatusDto> {
    try {
      await this.health.check([
        () => this.database.pingCheck('database').withTimeout(CHECK_TIMEOUT_MS),
        () =>
          this.indicators
            .check('redis')
            .attempt(() => assertRedisServing(this.redis))
            .withTimeout(CHECK_TIMEOUT_MS),
      ]);
      return { status: 'ok' };
    } catch (error) {
      if (!(error instanceof ServiceUnavailableException)) throw error;
      const result = error.getResponse() as TerminusFailure;
      const failed = Object.keys(result.error ?? {});
      const details = Object.fromEntries(
        Object.entries(result.details ?? {}).map(([name, check]) => [name, check.status]),
      );
      throw CommonErrors.unavailable(`Not ready: ${failed.join(' and ')} unavailable`, details);
    }
  }
}
