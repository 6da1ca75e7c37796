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
  Res,
} from '@nestjs/common';
import { ApiNoContentResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { SkipIdempotency } from '../../common/idempotency.interceptor.js';
import { InvitationResponse } from '../organizations/organizations.dto.js';
import { ApiErrors } from '../../common/api-errors.js';
import {
  ApiDataListResponse,
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
  MAX_BATCH_USERS,
  CreateUserDto,
  PasswordResetResponse,
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
  @ApiOperation({
    summary:
      'Create a user in the organization (201), or, for an email that already has an account, invite it (202)',
  })
  @ApiDataResponse(UserResponse, 201, 'Created: a new account, member at once')
  @ApiDataResponse(
    InvitationResponse,
    202,
    'The email has an account: invited, a member once its holder accepts',
  )
  @ApiErrors(400, 409, 422)
  async create(
    @Auth() ctx: AuthenticatedContext,
    @Body() dto: CreateUserDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<Data<UserResponse | InvitationResponse>> {
    const outcome = await this.users.create(ctx, dto);
    void reply.status(outcome.status);
    return data(outcome.data);
  }

  @Post('batch')
  @HttpCode(200)
  @RequestTimeout(BATCH_TIMEOUT_MS)
  @RequirePermission('users:write')
  @ApiOperation({ summary: 'Create up to 100 users; one bad item does not stop the others' })
  @ApiDataListResponse(
    BatchItemResult,
    MAX_BATCH_USERS,
    200,
    'One result per item, in request order',
  )
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
    summary:
      "Replace what the organization owns of a user: role, and an unshared account's full_name and telegram_chat_id (left out: cleared)",
  })
  @ApiDataResponse(UserResponse)
  @ApiErrors(400, 404, 409, 422)
  async replace(
    @Auth() ctx: AuthenticatedContext,
    @Param() { id }: UuidParam,
    @Body() dto: ReplaceUserDto,
  ): Promise<Data<UserResponse>> {
    return data(await this.users.replace(ctx, id, dto));
  }

  @Patch(':id')
  @RequirePermission('users:write')
  @ApiOperation({
    summary:
      "Change the fields sent: role, and an unshared account's full_name and telegram_chat_id (account fields: 403, the holder's)",
  })
  @ApiDataResponse(UserResponse)
  @ApiErrors(400, 404, 409)
  async update(
    @Auth() ctx: AuthenticatedContext,
    @Param() { id }: UuidParam,
    @Body() dto: UpdateUserDto,
  ): Promise<Data<UserResponse>> {
    return data(await this.users.update(ctx, id, dto));
  }

  @Post(':id/password-reset')
  @SkipIdempotency()
  @RequirePermission('members:write')
  @ApiOperation({
    summary:
      'Issue a single-use password reset token (1 hour) for an account of this organization alone, by someone who outranks it (users only)',
  })
  @ApiDataResponse(PasswordResetResponse, 201, 'Created; the token is shown once')
  @ApiErrors(400, 404)
  async resetPassword(
    @Auth() ctx: AuthenticatedContext,
    @Param() { id }: UuidParam,
  ): Promise<Data<PasswordResetResponse>> {
    return data(await this.users.issuePasswordReset(ctx, id));
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'No content' })
  @RequirePermission('users:delete')
  @ApiOperation({
    summary:
      'Remove a user of your rank or lower from the organization (the account goes when it belongs nowhere else)',
  })
  @ApiErrors(400, 404, 409)
  async remove(@Auth() ctx: AuthenticatedContext, @Param() { id }: UuidParam): Promise<void> {
    await this.users.remove(ctx, id);
  }
}
