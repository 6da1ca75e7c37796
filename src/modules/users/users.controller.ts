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
import { UuidParam } from '../../common/params.js';
import { RequirePermission } from '../../common/permissions.js';
import { Auth, type AuthenticatedContext } from '../../common/request-context.js';
import { BATCH_TIMEOUT_MS, RequestTimeout } from '../../common/timeout.interceptor.js';
import {
  BatchCreateUsersDto,
  BatchItemResult,
  CreateUserDto,
  ReplaceUserDto,
  UpdateUserDto,
  UserListQuery,
  UserResponse,
} from './users.dto.js';
import { UsersService } from './users.service.js';

@ApiTags('users')
@Controller('users')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Get()
  @RequirePermission('users:read')
  @ApiOperation({ summary: "List the organization's users" })
  @ApiPageResponse(UserResponse)
  @ApiErrors(400)
  list(
    @Auth() ctx: AuthenticatedContext,
    @Query() query: UserListQuery,
  ): Promise<Page<UserResponse>> {
    return this.users.list(ctx, query);
  }

  @Post()
  @RequirePermission('users:write')
  @ApiOperation({ summary: 'Create a user in the organization' })
  @ApiDataResponse(UserResponse, 201, 'Created')
  @ApiErrors(400, 409, 422)
  async create(
    @Auth() ctx: AuthenticatedContext,
    @Body() dto: CreateUserDto,
  ): Promise<Data<UserResponse>> {
    return data(await this.users.create(ctx, dto));
  }

  @Post('batch')
  @HttpCode(200)
  @RequestTimeout(BATCH_TIMEOUT_MS)
  @RequirePermission('users:write')
  @ApiOperation({ summary: 'Create up to 100 users; one bad item does not stop the others' })
  @ApiDataResponse(BatchItemResult, 200, 'One result per item, in request order (data is an array)')
  @ApiErrors(400, 422)
  async createMany(
    @Auth() ctx: AuthenticatedContext,
    @Body() dto: BatchCreateUsersDto,
  ): Promise<Data<BatchItemResult[]>> {
    return data(await this.users.createMany(ctx, dto.users));
  }

  @Get(':id')
  @RequirePermission('users:read')
  @ApiOperation({ summary: 'Get a user' })
  @ApiDataResponse(UserResponse)
  @ApiErrors(400, 404)
  async get(
    @Auth() ctx: AuthenticatedContext,
    @Param() { id }: UuidParam,
  ): Promise<Data<UserResponse>> {
    return data(await this.users.get(ctx, id));
  }

  @Put(':id')
  @RequirePermission('users:write')
  @ApiOperation({
    summary: 'Replace a user (optional fields left out are cleared; the password is kept)',
  })
  @ApiDataResponse(UserResponse)
  @ApiErrors(400, 404, 409)
  async replace(
    @Auth() ctx: AuthenticatedContext,
    @Param() { id }: UuidParam,
    @Body() dto: ReplaceUserDto,
  ): Promise<Data<UserResponse>> {
    return data(await this.users.replace(ctx, id, dto));
  }

  @Patch(':id')
  @RequirePermission('users:write')
  @ApiOperation({ summary: 'Change the fields sent' })
  @ApiDataResponse(UserResponse)
  @ApiErrors(400, 404, 409)
  async update(
    @Auth() ctx: AuthenticatedContext,
    @Param() { id }: UuidParam,
    @Body() dto: UpdateUserDto,
  ): Promise<Data<UserResponse>> {
    return data(await this.users.update(ctx, id, dto));
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'No content' })
  @RequirePermission('users:delete')
  @ApiOperation({
    summary: 'Remove a user from the organization (the account goes when it belongs nowhere else)',
  })
  @ApiErrors(400, 404, 409)
  async remove(@Auth() ctx: AuthenticatedContext, @Param() { id }: UuidParam): Promise<void> {
    await this.users.remove(ctx, id);
  }
}
