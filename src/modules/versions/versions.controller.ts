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
import { PageQuery } from '../../common/pagination.js';
import { Authenticated, OptionalAuth, PlatformManagement } from '../../common/permissions.js';
import { Auth, type AuthenticatedContext } from '../../common/request-context.js';
import {
  CreateVersionDto,
  UpdateVersionDto,
  VersionParam,
  VersionResponse,
} from './versions.dto.js';
import { VersionsService } from './versions.service.js';

/**
 * Reads are public (a credential, if sent, identifies the caller: a platform administrator
 * can still read a sunset version's routes). Writes are for platform administrators; the
 * service refuses anyone else with 403.
 */
@ApiTags('versions')
@Controller('versions')
@PlatformManagement()
export class VersionsController {
  constructor(private readonly versions: VersionsService) {}

  @Get()
  @OptionalAuth()
  @ApiOperation({ summary: 'List the API versions and their lifecycle (public)' })
  @ApiPageResponse(VersionResponse)
  @ApiErrors(400, 410)
  list(@Query() query: PageQuery): Promise<Page<VersionResponse>> {
    return this.versions.list(query);
  }

  @Post()
  @Authenticated()
  @ApiOperation({ summary: 'Add an API version (platform administrators)' })
  @ApiDataResponse(VersionResponse, 201, 'Created')
  @ApiErrors(400, 409, 410)
  async create(
    @Auth() ctx: AuthenticatedContext,
    @Body() dto: CreateVersionDto,
  ): Promise<Data<VersionResponse>> {
    return data(await this.versions.create(ctx, dto));
  }

  @Get(':version')
  @OptionalAuth()
  @ApiOperation({ summary: 'Get an API version (public)' })
  @ApiDataResponse(VersionResponse)
  @ApiErrors(400, 404, 410)
  async get(@Param() { version }: VersionParam): Promise<Data<VersionResponse>> {
    return data(await this.versions.get(version));
  }

  @Patch(':version')
  @Authenticated()
  @ApiOperation({
    summary:
      'Change the fields sent, e.g. deprecate or sunset (platform administrators); every process within 1 s',
  })
  @ApiDataResponse(VersionResponse)
  @ApiErrors(400, 404, 410)
  async update(
    @Auth() ctx: AuthenticatedContext,
    @Param() { version }: VersionParam,
    @Body() dto: UpdateVersionDto,
  ): Promise<Data<VersionResponse>> {
    return data(await this.versions.update(ctx, version, dto));
  }

  @Delete(':version')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'No content' })
  @Authenticated()
  @ApiOperation({
    summary:
      'Delete an API version (platform administrators); usage history stays. The only stable version cannot be deleted (409)',
  })
  @ApiErrors(400, 404, 409, 410)
  async remove(
    @Auth() ctx: AuthenticatedContext,
    @Param() { version }: VersionParam,
  ): Promise<void> {
    await this.versions.remove(ctx, version);
  }
}
