import { Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import type { Role } from '../../common/permissions.js';
import { CommonErrors } from '../../common/app-error.js';
import type { AuthenticatedContext, RequestContext } from '../../common/request-context.js';
import { rejectNulls } from '../../common/validation.js';
import { slugWithSuffix } from '../../common/slug.js';
import { AuthConfig } from '../../config/config.classes.js';
import { UsersService, toUserResponse } from '../users/users.service.js';
import type { User } from '../users/user.entity.js';
import { AUDIENCE, type AccessClaims, ISSUER } from './access-token.js';
import type {
  CompletePasswordResetDto,
  LoginDto,
  MeResponse,
  RegisterDto,
  TokenResponse,
  UpdateMeDto,
} from './auth.dto.js';
import { AuthErrors } from './auth.errors.js';
import { LoginAttempts } from './auth-throttler.guard.js';
import { AuthRepository } from './auth.repository.js';
import { JwtKeys } from './jwt-keys.js';
import { decoyHash, hashPassword, verifyPassword } from './password.js';
import type { UserResponse } from '../users/users.dto.js';
import type { AccountChanges } from '../users/users.repository.js';

@Injectable()
export class AuthService {
  constructor(
    private readonly users: UsersService,
    private readonly sessions: AuthRepository,
    private readonly jwt: JwtService,
    private readonly keys: JwtKeys,
    private readonly config: AuthConfig,
    private readonly loginAttempts: LoginAttempts,
  ) {}

  async register(ctx: RequestContext, dto: RegisterDto): Promise<UserResponse> {
    const organizationName = dto.organization_name ?? `${dto.username}'s organization`;
    const { user } = await this.users.register(
      ctx,
      {
        username: dto.username,
        email: dto.email.toLowerCase(),
        passwordHash: await hashPassword(dto.password),
        fullName: dto.full_name ?? null,
        telegramChatId: null,
        isPlatformAdmin: false,
      },
      { name: organizationName, slug: slugWithSuffix(organizationName) },
    );
    return toUserResponse({ user, role: 'owner' });
  }

  /**
   * The same 401, after the same argon2 work, whether the account is unknown, has no
   * password, the password is wrong, or the requested organization is not one of its own.
   */
  async login(ctx: RequestContext, dto: LoginDto): Promise<TokenResponse> {
    const login = dto.login ?? dto.username ?? dto.email;
    if (login === undefined) throw AuthErrors.invalidCredentials();
    const account = await this.users.findForLogin(login);
    const passwordOk = await verifyPassword(
      account?.passwordHash ?? (await decoyHash()),
      dto.password,
    );
    const organizations = account === null ? [] : await this.users.organizationsOf(account.id);
    const organization =
      dto.organization_id === undefined
        ? organizations[0]
        : organizations.find((candidate) => candidate.id === dto.organization_id);
    if (
      account === null ||
      account.passwordHash === null ||
      !passwordOk ||
      organization === undefined
    ) {
      await this.sessions.recordLoginFailure(ctx, login, account?.id ?? null);
      throw AuthErrors.invalidCredentials();
    }
    const session = await this.sessions.startSession(
      ctx,
      account.id,
      organization.id,
      this.config.refreshTokenTtlDays,
    );
    return this.tokens(
      account,
      organization.id,
      organization.role,
      session.refreshToken,
      session.familyId,
    );
  }

  async refresh(ctx: RequestContext, refreshToken: string): Promise<TokenResponse> {
    const result = await this.sessions.rotate(ctx, refreshToken, this.config.refreshTokenTtlDays);
    if (result.kind === 'reused') throw AuthErrors.refreshReused();
    if (result.kind === 'invalid') throw AuthErrors.invalidRefresh();
    const { session } = result;
    const account = await this.users.findAccount(session.userId);
    if (account === null) throw AuthErrors.invalidRefresh();
    return this.tokens(
      account,
      session.organizationId,
      session.role,
      session.refreshToken,
      session.familyId,
    );
  }

  async logout(ctx: RequestContext, refreshToken: string): Promise<void> {
    await this.sessions.endSession(ctx, refreshToken);
  }

  async me(ctx: AuthenticatedContext): Promise<MeResponse> {
    const principal = ctx.principal;
    if (principal.type === 'api_key') {
      // Answered from the cached key alone: no database.
      return {
        type: 'api_key',
        id: principal.keyId,
        name: principal.name,
        organization_id: principal.organizationId,
        project_id: principal.projectId,
        environment: principal.environment,
        permissions: [...principal.permissions],
      };
    }
    const account = await this.users.findAccount(principal.userId);
    if (account === null) throw AuthErrors.invalidToken();
    return {
      type: 'user',
      id: account.id,
      username: account.username,
      email: account.email,
      full_name: account.fullName,
      telegram_chat_id: account.telegramChatId,
      organization_id: principal.organizationId,
      role: principal.role,
      permissions: [...principal.permissions],
      organizations: await this.users.organizationsOf(account.id),
    };
  }

  /**
   * The holder's own changes. A new email or password needs the current password, and every
   * check of it counts as a login attempt (a wrong one is 401); a new password ends the
   * account's other sessions, keeping the one this access token belongs to.
   */
  async updateMe(ctx: AuthenticatedContext, dto: UpdateMeDto): Promise<MeResponse> {
    const principal = ctx.principal;
    if (principal.type !== 'user') throw AuthErrors.usersOnly();
    rejectNulls(dto, ['username', 'email', 'password', 'current_password']);
    const needsProof = dto.email !== undefined || dto.password !== undefined;
    if (needsProof && dto.current_password === undefined) {
      throw CommonErrors.validation([
        {
          field: 'current_password',
          message: 'current_password is required to change email or password',
        },
      ]);
    }
    const account = await this.users.findAccountWithPassword(principal.userId);
    if (account === null) throw AuthErrors.invalidToken();
    if (dto.current_password !== undefined) {
      await this.loginAttempts.count(ctx.ip, [account.username, account.email]);
      const ok = await verifyPassword(
        account.passwordHash ?? (await decoyHash()),
        dto.current_password,
      );
      if (account.passwordHash === null || !ok) {
        await this.sessions.recordLoginFailure(ctx, account.username, account.id);
        throw AuthErrors.wrongCurrentPassword();
      }
    }
    const changes: AccountChanges = {};
    if (dto.username !== undefined) changes.username = dto.username;
    if (dto.email !== undefined) changes.email = dto.email.toLowerCase();
    if (dto.full_name !== undefined) changes.fullName = dto.full_name;
    if (dto.telegram_chat_id !== undefined) changes.telegramChatId = dto.telegram_chat_id;
    if (dto.password !== undefined) changes.passwordHash = await hashPassword(dto.password);
    await this.users.updateAccount(
      ctx,
      principal.organizationId,
      principal.userId,
      changes,
      principal.sessionId ?? null,
    );
    return this.me(ctx);
  }

  /** Completes an administrator's reset: the new password, and every session ended. */
  async completePasswordReset(ctx: RequestContext, dto: CompletePasswordResetDto): Promise<void> {
    const passwordHash = await hashPassword(dto.new_password);
    const done = await this.users.completePasswordReset(ctx, dto.reset_token, passwordHash);
    if (done === null) throw AuthErrors.invalidResetToken();
  }

  private tokens(
    account: User,
    organizationId: string,
    role: Role,
    refreshToken: string,
    familyId: string,
  ): TokenResponse {
    const claims: AccessClaims = {
      sub: account.id,
      org: organizationId,
      role,
      pa: account.isPlatformAdmin,
      sid: familyId,
    };
    const accessToken = this.jwt.sign(claims, {
      secret: this.keys.signingSecret,
      algorithm: 'HS256',
      keyid: this.keys.signingKeyId,
      expiresIn: this.config.accessTokenTtlSeconds,
      issuer: ISSUER,
      audience: AUDIENCE,
    });
    return {
      access_token: accessToken,
      refresh_token: refreshToken,
      token_type: 'bearer',
      expires_in: this.config.accessTokenTtlSeconds,
      user: toUserResponse({ user: account, role }),
    };
  }
}
