import { Controller, Get, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../../common/api-errors.js';
import { ApiDataResponse, type Data, data } from '../../common/envelope.js';
import { RequirePermission } from '../../common/permissions.js';
import { Auth, type AuthenticatedContext } from '../../common/request-context.js';
import {
  RealtimeQuery,
  RealtimeResponse,
  TopEndpointsQuery,
  TopEndpointsResponse,
  UsageQuery,
  UsageResponse,
} from './analytics.dto.js';
import { AnalyticsService } from './analytics.service.js';
import { RateLimitEventsQuery, RateLimitEventsResponse } from './rate-limit-events.dto.js';

@ApiTags('analytics')
@Controller('analytics')
export class AnalyticsController {
  constructor(private readonly analytics: AnalyticsService) {}

  @Get('usage')
  @RequirePermission('analytics:read')
  @ApiOperation({
    summary:
      "The organization's requests over a range, per interval, with error rates and latency percentiles (from rollups)",
  })
  @ApiDataResponse(UsageResponse)
  @ApiErrors(400, 404)
  async usage(
    @Auth() ctx: AuthenticatedContext,
    @Query() query: UsageQuery,
  ): Promise<Data<UsageResponse>> {
    return data(await this.analytics.usage(ctx, query));
  }

  @Get('top-endpoints')
  @RequirePermission('analytics:read')
  @ApiOperation({
    summary:
      "The organization's busiest routes over a range: requests, error rate and latency (from rollups)",
  })
  @ApiDataResponse(TopEndpointsResponse)
  @ApiErrors(400)
  async topEndpoints(
    @Auth() ctx: AuthenticatedContext,
    @Query() query: TopEndpointsQuery,
  ): Promise<Data<TopEndpointsResponse>> {
    return data(await this.analytics.topEndpoints(ctx, query));
  }

  @Get('rate-limits')
  @RequirePermission('analytics:read')
  @ApiOperation({
    summary:
      "The organization's requests refused by a rate limit or a quota (429), newest first, each with the limit that refused it (from the usage log)",
  })
  @ApiDataResponse(RateLimitEventsResponse)
  @ApiErrors(400, 404)
  async rateLimits(
    @Auth() ctx: AuthenticatedContext,
    @Query() query: RateLimitEventsQuery,
  ): Promise<Data<RateLimitEventsResponse>> {
    return data(await this.analytics.rateLimits(ctx, query));
  }

  @Get('realtime')
  @RequirePermission('analytics:read')
  @ApiOperation({
    summary:
      "The organization's counts over the last minutes (1m-60m): requests, errors, active keys and users, 429 events",
  })
  @ApiDataResponse(RealtimeResponse)
  @ApiErrors(400)
  async realtime(
    @Auth() ctx: AuthenticatedContext,
    @Query() query: RealtimeQuery,
  ): Promise<Data<RealtimeResponse>> {
    return data(await this.analytics.realtime(ctx, query));
  }
}
