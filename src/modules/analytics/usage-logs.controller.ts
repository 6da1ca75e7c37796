import { Controller, Get, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../../common/api-errors.js';
import { ApiPageResponse, type Page } from '../../common/envelope.js';
import { RequirePermission } from '../../common/permissions.js';
import { Auth, type AuthenticatedContext } from '../../common/request-context.js';
import { UsageLogResponse, UsageLogsQuery } from './usage-logs.dto.js';
import { AnalyticsService } from './analytics.service.js';

@ApiTags('analytics')
@Controller('usage-logs')
export class UsageLogsController {
  constructor(private readonly analytics: AnalyticsService) {}

  @Get()
  @RequirePermission('analytics:read')
  @ApiOperation({
    summary:
      'The raw request log, newest first: every request made with a credential (401 aside), once',
  })
  @ApiPageResponse(UsageLogResponse)
  @ApiErrors(400)
  list(
    @Auth() ctx: AuthenticatedContext,
    @Query() query: UsageLogsQuery,
  ): Promise<Page<UsageLogResponse>> {
    return this.analytics.logs(ctx, query);
  }
}
