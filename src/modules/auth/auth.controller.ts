import {
  Body,
  Controller,
  Get,
  HttpCode,
  Param,
  Patch,
  Post,
  Query,
  UseGuards,
} from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../../common/api-errors.js';
import { SkipIdempotency } from '../../common/idempotency.interceptor.js';
import {
  ApiDataResponse,
  ApiPageResponse,
  type Data,
  type Page,
  data,
} from '../../common/envelope.js';
import { PageQuery } from '../../common/pagination.js';
import { UuidParam } from '../../common/params.js';
import { Authenticated, Public } from '../../common/permissions.js';
import {
  Auth,
  type AuthenticatedContext,
  Ctx,
  type RequestContext,
} from '../../common/request-context.js';
import { UserResponse } from '../users/users.dto.js';
import {
  AcceptedInvitationResponse,
  InvitationResponse,
} from '../organizations/organizations.dto.js';
import { OrganizationsService } from '../organizations/organizations.service.js';
import {
  CompletePasswordResetDto,
  LoginDto,
  MeResponse,
  RefreshDto,
  RegisterDto,
  TokenResponse,
  UpdateMeDto,
} from './auth.dto.js';
import { AuthThrottlerGuard } from './auth-throttler.guard.js';
import { AuthService } from './auth.service.js';

@ApiTags('auth')
@Controller('auth')
export class AuthController {
  constructor(
    private readonly auth: AuthService,
    private readonly organizations: OrganizationsService,
  ) {}

  @Post('register')
  @Public()
  @UseGuards(AuthThrottlerGuard)
  @ApiOperation({ summary: 'Create an account and an organization it owns' })
  @ApiDataResponse(UserResponse, 201, 'Created')
  @ApiErrors(400, 409, 422, 429)
  async register(
    @Ctx() ctx: RequestContext,
    @Body() dto: RegisterDto,
  ): Promise<Data<UserResponse>> {
    return data(await this.auth.register(ctx, dto));
  }

  @Post('login')
  @HttpCode(200)
  @Public()
  @SkipIdempotency()
  @UseGuards(AuthThrottlerGuard)
  @ApiOperation({ summary: 'Exchange a login (username or email) and password for tokens' })
  @ApiOkResponse({
    type: TokenResponse,
    description: 'Top-level token response (OAuth 2.0 style), not wrapped in data',
  })
  @ApiErrors(400, 401, 429)
  login(@Ctx() ctx: RequestContext, @Body() dto: LoginDto): Promise<TokenResponse> {
    return this.auth.login(ctx, dto);
  }

  @Post('refresh')
  @HttpCode(200)
  @Public()
  @SkipIdempotency()
  @ApiOperation({
    summary: 'Exchange a refresh token for a new pair (single use; reuse revokes the session)',
  })
  @ApiOkResponse({ type: TokenResponse })
  @ApiErrors(400, 401)
  refresh(@Ctx() ctx: RequestContext, @Body() dto: RefreshDto): Promise<TokenResponse> {
    return this.auth.refresh(ctx, dto.refresh_token);
  }

  @Post('logout')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'No content' })
  @Public()
  @ApiOperation({ summary: "Revoke the refresh token's session" })
  @ApiErrors(400)
  async logout(@Ctx() ctx: RequestContext, @Body() dto: RefreshDto): Promise<void> {
    await this.auth.logout(ctx, dto.refresh_token);
  }

  @Get('me')
  @Authenticated()
  @ApiOperation({ summary: 'Who the credential is' })
  @ApiDataResponse(MeResponse)
  async me(@Auth() ctx: AuthenticatedContext): Promise<Data<MeResponse>> {
    return data(await this.auth.me(ctx));
  }

  @Patch('me')
  @Authenticated()
  @ApiOperation({
    summary:
      "Change your own account (users only); email and password need current_password, and a new password ends the account's other sessions",
  })
  @ApiDataResponse(MeResponse)
  @ApiErrors(400, 409, 429)
  async updateMe(
    @Auth() ctx: AuthenticatedContext,
    @Body() dto: UpdateMeDto,
  ): Promise<Data<MeResponse>> {
    return data(await this.auth.updateMe(ctx, dto));
  }

  @Post('password-reset')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'No content: the password is set' })
  @Public()
  @SkipIdempotency()
  @UseGuards(AuthThrottlerGuard)
  @ApiOperation({
    summary:
      "Complete an administrator's password reset with its token; ends every session of the account",
  })
  @ApiErrors(400, 401, 429)
  async completePasswordReset(
    @Ctx() ctx: RequestContext,
    @Body() dto: CompletePasswordResetDto,
  ): Promise<void> {
    await this.auth.completePasswordReset(ctx, dto);
  }

  @Get('invitations')
  @Authenticated()
  @ApiOperation({ summary: "Your account's pending invitations to organizations (users only)" })
  @ApiPageResponse(InvitationResponse)
  @ApiErrors(400)
  listInvitations(
    @Auth() ctx: AuthenticatedContext,
    @Query() query: PageQuery,
  ): Promise<Page<InvitationResponse>> {
    return this.organizations.listInvitations(ctx, query);
  }

  @Post('invitations/:id/accept')
  @HttpCode(200)
  @Authenticated()
  @ApiOperation({
    summary:
      'Accept an invitation: you become a member (log in with its organization_id to act there)',
  })
  @ApiDataResponse(AcceptedInvitationResponse)
  @ApiErrors(400, 404, 422)
  async acceptInvitation(
    @Auth() ctx: AuthenticatedContext,
    @Param() { id }: UuidParam,
  ): Promise<Data<AcceptedInvitationResponse>> {
    return data(await this.organizations.acceptInvitation(ctx, id));
  }

  @Post('invitations/:id/decline')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'No content: the invitation is gone' })
  @Authenticated()
  @ApiOperation({ summary: 'Decline an invitation; nothing of it remains' })
  @ApiErrors(400, 404, 422)
  async declineInvitation(
    @Auth() ctx: AuthenticatedContext,
    @Param() { id }: UuidParam,
  ): Promise<void> {
    await this.organizations.declineInvitation(ctx, id);
  }
}
