import { Body, Controller, Get, HttpCode, Post, UseGuards } from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../../common/api-errors.js';
import { SkipIdempotency } from '../../common/idempotency.interceptor.js';
import { ApiDataResponse, type Data, data } from '../../common/envelope.js';
import { Authenticated, Public } from '../../common/permissions.js';
import {
  Auth,
  type AuthenticatedContext,
  Ctx,
  type RequestContext,
} from '../../common/request-context.js';
import { UserResponse } from '../users/users.dto.js';
import { LoginDto, MeResponse, RefreshDto, RegisterDto, TokenResponse } from './auth.dto.js';
import { AuthThrottlerGuard } from './auth-throttler.guard.js';
import { AuthService } from './auth.service.js';

@ApiTags('auth')
@Controller('auth')
export class AuthController {
  constructor(private readonly auth: AuthService) {}

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
}
