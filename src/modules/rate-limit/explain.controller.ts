import { Controller, Get, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../../common/api-errors.js';
import { ApiDataResponse, type Data, data } from '../../common/envelope.js';
import { Authenticated, PlatformManagement } from '../../common/permissions.js';
import { Auth, type AuthenticatedContext } from '../../common/request-context.js';
import { ExplainQuery, ExplainResponse } from './explain.dto.js';
import { ExplainService } from './explain.service.js';

@ApiTags('rate-limits')
@Controller('rate-limits/explain')
@PlatformManagement()
export class ExplainController {
  constructor(private readonly explainer: ExplainService) {}

  @Get()
  @Authenticated()
  @ApiOperation({
    summary:
      'Every window and quota that applies to a key (api_key_id, needs keys:read), a user (user_id, needs users:read) or the caller, read without consuming, and which would decide the next request',
  })
  @ApiDataResponse(ExplainResponse)
  @ApiErrors(400, 404)
  async explain(
    @Auth() ctx: AuthenticatedContext,
    @Query() query: ExplainQuery,
  ): Promise<Data<ExplainResponse>> {
    return data(await this.explainer.explain(ctx, query));
  }
}
