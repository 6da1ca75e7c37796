import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiNoContentResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../../common/api-errors.js';
import {
  ApiDataResponse,
  ApiPageResponse,
  type Data,
  type Page,
  data,
} from '../../common/envelope.js';
import { UuidParam } from '../../common/params.js';
import { RequirePermission } from '../../common/permissions.js';
import { Auth, type AuthenticatedContext } from '../../common/request-context.js';
import { CreateQuotaDto, QuotaListQuery, QuotaResponse, UpdateQuotaDto } from './quotas.dto.js';
import { QuotasService } from './quotas.service.js';

@ApiTags('quotas')
@Controller('quotas')
export class QuotasController {
  constructor(private readonly quotas: QuotasService) {}

  @Get()
  @RequirePermission('keys:read')
  @ApiOperation({ summary: "The organization's quotas, with the current period's use" })
  @ApiPageResponse(QuotaResponse)
  @ApiErrors(400)
  list(
    @Auth() ctx: AuthenticatedContext,
    @Query() query: QuotaListQuery,
  ): Promise<Page<QuotaResponse>> {
    return this.quotas.list(ctx, query);
  }

  @Post()
  @RequirePermission('quotas:write')
  @ApiOperation({
    summary:
      'Create a quota for one API key, or for the whole organization (every key counts against it)',
  })
  @ApiDataResponse(QuotaResponse, 201, 'Created')
  @ApiErrors(400, 404, 409, 422)
  async create(
    @Auth() ctx: AuthenticatedContext,
    @Body() dto: CreateQuotaDto,
  ): Promise<Data<QuotaResponse>> {
    return data(await this.quotas.create(ctx, dto));
  }

  @Get(':id')
  @RequirePermission('keys:read')
  @ApiOperation({ summary: 'A quota with used, remaining and resets_at' })
  @ApiDataResponse(QuotaResponse)
  @ApiErrors(400, 404)
  async get(
    @Auth() ctx: AuthenticatedContext,
    @Param() { id }: UuidParam,
  ): Promise<Data<QuotaResponse>> {
    return data(await this.quotas.get(ctx, id));
  }

  @Patch(':id')
  @RequirePermission('quotas:write')
  @ApiOperation({
    summary:
      "Change max_requests (the period's count is kept) or the schedule; every process within 1 s",
  })
  @ApiDataResponse(QuotaResponse)
  @ApiErrors(400, 404)
  async update(
    @Auth() ctx: AuthenticatedContext,
    @Param() { id }: UuidParam,
    @Body() dto: UpdateQuotaDto,
  ): Promise<Data<QuotaResponse>> {
    return data(await this.quotas.update(ctx, id, dto));
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'No content' })
  @RequirePermission('quotas:write')
  @ApiOperation({ summary: 'Delete a quota: requests stop counting against it at once' })
  @ApiErrors(400, 404)
  async remove(@Auth() ctx: AuthenticatedContext, @Param() { id }: UuidParam): Promise<void> {
    await this.quotas.remove(ctx, id);
  }
}
