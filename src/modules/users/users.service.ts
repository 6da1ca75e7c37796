import { createHash, randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { toAppError } from '../../common/exception.filter.js';
import type { Page } from '../../common/envelope.js';
import { page } from '../../common/envelope.js';
import {
  type AuthenticatedContext,
  type RequestContext,
  tenantOf,
} from '../../common/request-context.js';
import { rejectNulls, validateItem } from '../../common/validation.js';
import { hashPassword } from '../auth/password.js';
import { MembershipCache } from '../organizations/membership-cache.js';
import { assertMayGrant, assertMayManage, outranks } from '../organizations/membership-rules.js';
import type { InvitationResponse } from '../organizations/organizations.dto.js';
import { toInvitation } from '../organizations/organizations.service.js';
import {
  type BatchItemResult,
  CreateUserDto,
  RESET_TOKEN_BYTES,
  type PasswordResetResponse,
  type ReplaceUserDto,
  type UpdateUserDto,
  type UserListQuery,
  type UserResponse,
} from './users.dto.js';
import { toUserResponse } from './user-response.js';
import { UserErrors } from './users.errors.js';
import {
  type AccountChanges,
  type NewUser,
  type UserChanges,
  UsersRepository,
} from './users.repository.js';

export { toUserResponse };

const PASSWORD_RESET_TTL_MS = 60 * 60_000;

export function hashResetToken(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

/** What POST /users did: created the account (201) or invited an existing one (202). */
export type CreateOutcome =
  { status: 201; data: UserResponse } | { status: 202; data: InvitationResponse };

@Injectable()
export class UsersService {
  constructor(
    private readonly users: UsersRepository,
    private readonly memberships: MembershipCache,
  ) {}

  async list(ctx: AuthenticatedContext, query: UserListQuery): Promise<Page<UserResponse>> {
    const [members, total] = await this.users.list(
      tenantOf(ctx),
      { email: query.email, q: query.q },
      query,
    );
    return page(members.map(toUserResponse), total, query);
  }

  async get(ctx: AuthenticatedContext, id: string): Promise<UserResponse> {
    const member = await this.users.findById(tenantOf(ctx), id);
    if (member === null) throw UserErrors.notFound();
    return toUserResponse(member);
  }

  /**
   * A new email creates the account and its membership at once (201); an email that already
   * has an account invites it instead (202): the account is its holder's, and joins only when
   * they accept. The other fields of the body are then not applied (they are the holder's).
   */
  async create(ctx: AuthenticatedContext, dto: CreateUserDto): Promise<CreateOutcome> {
    if (ctx.principal.type === 'api_key' && dto.password !== undefined)
      throw UserErrors.keysCannotSetPasswords();
    const role = dto.role ?? 'member';
    if (dto.role !== undefined) assertMayGrant(ctx.principal, role);
    const email = dto.email.toLowerCase();
    const existing = await this.users.findIdByEmail(email);
    if (existing !== null) {
      const invited = await this.users.invite(tenantOf(ctx), ctx, existing, role, email);
      return { status: 202, data: toInvitation(invited) };
    }
    const member = await this.users.create(
      tenantOf(ctx),
      ctx,
      {
        username: dto.username,
        email,
        passwordHash: dto.password === undefined ? null : await hashPassword(dto.password),
        fullName: dto.full_name ?? null,
        telegramChatId: dto.telegram_chat_id ?? null,
        isPlatformAdmin: false,
      },
      role,
    );
    return { status: 201, data: toUserResponse(member) };
  }

  /** Up to 100 creates, each validated and committed on its own, results in request order. */
  async createMany(ctx: AuthenticatedContext, items: unknown[]): Promise<BatchItemResult[]> {
    const results: BatchItemResult[] = [];
    for (const [index, item] of items.entries()) {
      const checked = await validateItem(CreateUserDto, item);
      try {
        if ('error' in checked) throw checked.error;
        results.push({ index, ...(await this.create(ctx, checked.value)) });
      } catch (error) {
        const { appError } = toAppError(error);
        if (appError.code === 'INTERNAL_ERROR') throw error;
        results.push({
          index,
          status: appError.status,
          error: {
            code: appError.code,
            message: appError.message,
            details: appError.details ?? null,
          },
        });
      }
    }
    return results;
  }

  /** PUT: the organization's fields replaced whole (full_name, telegram_chat_id left out: null). */
  async replace(ctx: AuthenticatedContext, id: string, dto: ReplaceUserDto): Promise<UserResponse> {
    return this.update(ctx, id, {
      ...dto,
      full_name: dto.full_name ?? null,
      telegram_chat_id: dto.telegram_chat_id ?? null,
    });
  }

  /**
   * What an organization may change of its member: the role (by rank), and full_name and
   * telegram_chat_id of an account that belongs to it alone. username and email pass only
   * unchanged; a password never (the holder's, through PATCH /auth/me).
   */
  async update(ctx: AuthenticatedContext, id: string, dto: UpdateUserDto): Promise<UserResponse> {
    rejectNulls(dto, ['username', 'email', 'password', 'role']);
    const scope = tenantOf(ctx);
    const current = await this.users.findById(scope, id);
    if (current === null) throw UserErrors.notFound();
    if (dto.password !== undefined) throw UserErrors.accountField('password');
    if (
      dto.username !== undefined &&
      dto.username.toLowerCase() !== current.user.username.toLowerCase()
    )
      throw UserErrors.accountField('username');
    if (dto.email !== undefined && dto.email.toLowerCase() !== current.user.email.toLowerCase())
      throw UserErrors.accountField('email');
    assertMayManage(ctx.principal, { userId: id, role: current.role });
    if (dto.role !== undefined && dto.role !== current.role)
      assertMayGrant(ctx.principal, dto.role);

    const changes: UserChanges = {};
    if (dto.full_name !== undefined && dto.full_name !== current.user.fullName)
      changes.fullName = dto.full_name;
    if (dto.telegram_chat_id !== undefined && dto.telegram_chat_id !== current.user.telegramChatId)
      changes.telegramChatId = dto.telegram_chat_id;
    if (Object.keys(changes).length > 0 && (await this.users.belongsElsewhere(scope, id)))
      throw UserErrors.sharedAccount();
    if (dto.role !== undefined) changes.role = dto.role;
    const updated = await this.users.update(scope, ctx, id, changes);
    if (dto.role !== undefined && dto.role !== current.role)
      await this.memberships.membershipChanged(id, scope.organizationId);
    return toUserResponse(updated);
  }

  async remove(ctx: AuthenticatedContext, id: string): Promise<void> {
    const scope = tenantOf(ctx);
    const current = await this.users.findById(scope, id);
    if (current === null) throw UserErrors.notFound();
    assertMayManage(ctx.principal, { userId: id, role: current.role });
    await this.users.remove(scope, ctx, id);
    await this.memberships.membershipChanged(id, scope.organizationId);
  }

  /**
   * An administrator's reset: a single-use token, valid 1 hour, for an account that belongs to
   * this organization alone, by someone who outranks it. Only its hash is stored.
   */
  async issuePasswordReset(ctx: AuthenticatedContext, id: string): Promise<PasswordResetResponse> {
    if (ctx.principal.type === 'api_key') throw UserErrors.keysCannotReset();
    const scope = tenantOf(ctx);
    const current = await this.users.findById(scope, id);
    if (current === null) throw UserErrors.notFound();
    if (await this.users.belongsElsewhere(scope, id)) throw UserErrors.resetShared();
    if (!outranks(ctx.principal, current.role)) throw UserErrors.resetRank();
    const token = `prt_${randomBytes(RESET_TOKEN_BYTES).toString('base64url')}`;
    const expiresAt = new Date(Date.now() + PASSWORD_RESET_TTL_MS);
    await this.users.createPasswordReset(scope, ctx, id, hashResetToken(token), expiresAt);
    return { reset_token: token, expires_at: expiresAt.toISOString() };
  }

  // For the auth module: accounts outside any organization's scope.

  register(ctx: RequestContext, input: NewUser, organization: { name: string; slug: string }) {
    return this.users.register(ctx, input, organization);
  }

  findForLogin(login: string) {
    return this.users.findForLogin(login);
  }

  findAccount(id: string) {
    return this.users.findAccount(id);
  }

  findAccountWithPassword(id: string) {
    return this.users.findAccountWithPassword(id);
  }

  updateAccount(
    ctx: RequestContext,
    organizationId: string,
    id: string,
    changes: AccountChanges,
    keepSession: string | null,
  ) {
    return this.users.updateAccount(ctx, organizationId, id, changes, keepSession);
  }

  completePasswordReset(ctx: RequestContext, token: string, passwordHash: string) {
    return this.users.completePasswordReset(ctx, hashResetToken(token), passwordHash);
  }

  organizationsOf(userId: string) {
    return this.users.organizationsOf(userId);
  }
}
