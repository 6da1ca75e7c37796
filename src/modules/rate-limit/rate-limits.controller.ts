import { Body, Controller, Get, Put } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../../common/api-errors.js';
import { ApiDataResponse, type Data, data } from '../../common/envelope.js';
import { Authenticated, PlatformManagement, RequirePermission } from '../../common/permissions.js';
import { Auth, type AuthenticatedContext } from '../../common/request-context.js';
import { RateLimitsResponse, UpdateRateLimitsDto } from './rate-limits.dto.js';
import { RateLimitsService } from './rate-limits.service.js';

@ApiTags('rate-limits')
@Controller('rate-limits')
@PlatformManagement()
export class RateLimitsController {
  constructor(private readonly rateLimits: RateLimitsService) {}

  @Get()
  @Authenticated()
  @ApiOperation({
    summary:
      "Global and tier policies, and the caller's organization's own set and endpoint overrides",
  })
  @ApiDataResponse(RateLimitsResponse)
  async get(@Auth() ctx: AuthenticatedContext): Promise<Data<RateLimitsResponse>> {
    return data(await this.rateLimits.get(ctx));
  }

  @Put()
  @RequirePermission('rate_limits:write')
  @ApiOperation({
    summary:
      'Replace policies: global and tiers (platform administrators), endpoints (the organization, at most 100); every process within 1 s',
  })
  @ApiDataResponse(RateLimitsResponse)
  @ApiErrors(400, 403)
  async update(
    @Auth() ctx: AuthenticatedContext,
    @Body() dto: UpdateRateLimitsDto,
  ): Promise<Data<RateLimitsResponse>> {
    return data(await this.rateLimits.update(ctx, dto));
  }
}
