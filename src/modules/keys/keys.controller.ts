import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Patch,
  Post,
  Put,
  Query,
} from '@nestjs/common';
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
import { UuidParam } from '../../common/params.js';
import { RequirePermission } from '../../common/permissions.js';
import { Auth, type AuthenticatedContext } from '../../common/request-context.js';
import { KeyUsageQuery, UsageResponse } from '../analytics/analytics.dto.js';
import { KeyVerifier } from './key-verifier.js';
import {
  CreateKeyDto,
  KeyResponse,
  KeyWithSecretResponse,
  ReplaceKeyDto,
  RotateKeyDto,
  UpdateKeyDto,
  VerifyKeyDto,
  VerifyKeyResponse,
} from './keys.dto.js';
import { KeysService } from './keys.service.js';

@ApiTags('keys')
@Controller('keys')
export class KeysController {
  constructor(
    private readonly keys: KeysService,
    private readonly verifier: KeyVerifier,
  ) {}

  @Get()
  @RequirePermission('keys:read')
  @ApiOperation({ summary: "List the organization's API keys (never their secrets)" })
  @ApiPageResponse(KeyResponse)
  @ApiErrors(400)
  list(@Auth() ctx: AuthenticatedContext, @Query() query: PageQuery): Promise<Page<KeyResponse>> {
    return this.keys.list(ctx, query);
  }

  @Post()
  @RequirePermission('keys:write')
  @ApiOperation({ summary: 'Create an API key; the response carries its secret, once' })
  @ApiDataResponse(KeyWithSecretResponse, 201, 'Created')
  @ApiErrors(400, 404, 422)
  async create(
    @Auth() ctx: AuthenticatedContext,
    @Body() dto: CreateKeyDto,
  ): Promise<Data<KeyWithSecretResponse>> {
    return data(await this.keys.create(ctx, dto));
  }

  @Post('verify')
  @HttpCode(200)
  @RequirePermission('keys:read')
  @ApiOperation({
    summary:
      'Check a key your own API received: always 200, valid or not (with the code it would get)',
  })
  @ApiDataResponse(VerifyKeyResponse)
  @ApiErrors(400)
  async verify(
    @Auth() ctx: AuthenticatedContext,
    @Body() dto: VerifyKeyDto,
  ): Promise<Data<VerifyKeyResponse>> {
    return data(await this.verifier.verify(ctx, dto));
  }

  @Get(':id')
  @RequirePermission('keys:read')
  @ApiOperation({ summary: 'Get an API key (no secret)' })
  @ApiDataResponse(KeyResponse)
  @ApiErrors(400, 404)
  async get(
    @Auth() ctx: AuthenticatedContext,
    @Param() { id }: UuidParam,
  ): Promise<Data<KeyResponse>> {
    return data(await this.keys.get(ctx, id));
  }

  @Get(':id/usage')
  @RequirePermission('analytics:read')
  @ApiOperation({
    summary: "The key's requests over a range, as GET /analytics/usage answers for this key",
  })
  @ApiDataResponse(UsageResponse)
  @ApiErrors(400, 404)
  async usage(
    @Auth() ctx: AuthenticatedContext,
    @Param() { id }: UuidParam,
    @Query() query: KeyUsageQuery,
  ): Promise<Data<UsageResponse>> {
    return data(await this.keys.usage(ctx, id, query));
  }

  @Put(':id')
  @RequirePermission('keys:write')
  @ApiOperation({
    summary: 'Replace name, description, permissions, allowed_ips, expires_at and limits',
  })
  @ApiDataResponse(KeyResponse)
  @ApiErrors(400, 404)
  async replace(
    @Auth() ctx: AuthenticatedContext,
    @Param() { id }: UuidParam,
    @Body() dto: ReplaceKeyDto,
  ): Promise<Data<KeyResponse>> {
    return data(await this.keys.replace(ctx, id, dto));
  }

  @Patch(':id')
  @RequirePermission('keys:write')
  @ApiOperation({ summary: 'Change the fields sent' })
  @ApiDataResponse(KeyResponse)
  @ApiErrors(400, 404)
  async update(
    @Auth() ctx: AuthenticatedContext,
    @Param() { id }: UuidParam,
    @Body() dto: UpdateKeyDto,
  ): Promise<Data<KeyResponse>> {
    return data(await this.keys.update(ctx, id, dto));
  }

  @Post(':id/revoke')
  @HttpCode(200)
  @RequirePermission('keys:write')
  @ApiOperation({ summary: 'Revoke: refused on every api instance by the time this returns' })
  @ApiDataResponse(KeyResponse)
  @ApiErrors(400, 404)
  async revoke(
    @Auth() ctx: AuthenticatedContext,
    @Param() { id }: UuidParam,
  ): Promise<Data<KeyResponse>> {
    return data(await this.keys.revoke(ctx, id));
  }

  @Post(':id/rotate')
  @RequirePermission('keys:write')
  @ApiOperation({ summary: 'A new secret; the old one works until the grace period ends' })
  @ApiDataResponse(KeyWithSecretResponse, 201, 'Rotated')
  @ApiErrors(400, 401, 404, 409)
  async rotate(
    @Auth() ctx: AuthenticatedContext,
    @Param() { id }: UuidParam,
    @Body() dto: RotateKeyDto,
  ): Promise<Data<KeyWithSecretResponse>> {
    return data(await this.keys.rotate(ctx, id, dto));
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'No content' })
  @RequirePermission('keys:write')
  @ApiOperation({ summary: 'Revoke and hide the key' })
  @ApiErrors(400, 404)
  async remove(@Auth() ctx: AuthenticatedContext, @Param() { id }: UuidParam): Promise<void> {
    await this.keys.revoke(ctx, id, true);
  }
}
