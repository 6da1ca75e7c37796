import { Injectable } from '@nestjs/common';
import { toAppError } from '../../common/exception.filter.js';
import type { Page } from '../../common/envelope.js';
import { page } from '../../common/envelope.js';
import { type Role, allows } from '../../common/permissions.js';
import type { Principal } from '../../common/principal.js';
import {
  type AuthenticatedContext,
  type RequestContext,
  tenantOf,
} from '../../common/request-context.js';
import { rejectNulls, validateItem } from '../../common/validation.js';
import { hashPassword } from '../auth/password.js';
import {
  type BatchItemResult,
  CreateUserDto,
  type ReplaceUserDto,
  type UpdateUserDto,
  type UserListQuery,
  type UserResponse,
} from './users.dto.js';
import { UserErrors } from './users.errors.js';
import {
  type Member,
  type NewUser,
  type UserChanges,
  UsersRepository,
} from './users.repository.js';

export function toUserResponse({ user, role }: Member): UserResponse {
  return {
    id: user.id,
    username: user.username,
    email: user.email,
    full_name: user.fullName,
    telegram_chat_id: user.telegramChatId,
    role,
    is_platform_admin: user.isPlatformAdmin,
    created_at: user.createdAt.toISOString(),
    updated_at: user.updatedAt.toISOString(),
  };
}

function isSelf(principal: Principal, userId: string): boolean {
  return principal.type === 'user' && principal.userId === userId;
}

@Injectable()
export class UsersService {
  constructor(private readonly users: UsersRepository) {}

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

  async create(ctx: AuthenticatedContext, dto: CreateUserDto): Promise<UserResponse> {
    const role = dto.role ?? 'member';
    if (dto.role !== undefined) this.assertMayGrant(ctx.principal, role);
    const member = await this.users.create(
      tenantOf(ctx),
      ctx,
      {
        username: dto.username,
        email: dto.email.toLowerCase(),
        passwordHash: dto.password === undefined ? null : await hashPassword(dto.password),
        fullName: dto.full_name ?? null,
        telegramChatId: dto.telegram_chat_id ?? null,
        isPlatformAdmin: false,
      },
      role,
    );
    return toUserResponse(member);
  }

  /** Up to 100 creates, each validated and committed on its own, results in request order. */
  async createMany(ctx: AuthenticatedContext, items: unknown[]): Promise<BatchItemResult[]> {
    const results: BatchItemResult[] = [];
    for (const [index, item] of items.entries()) {
      const checked = await validateItem(CreateUserDto, item);
      try {
        if ('error' in checked) throw checked.error;
        results.push({ index, status: 201, data: await this.create(ctx, checked.value) });
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

  async replace(ctx: AuthenticatedContext, id: string, dto: ReplaceUserDto): Promise<UserResponse> {
    return this.update(ctx, id, {
      username: dto.username,
      email: dto.email,
      password: dto.password,
      full_name: dto.full_name ?? null,
      telegram_chat_id: dto.telegram_chat_id ?? null,
      role: dto.role,
    });
  }

  async update(ctx: AuthenticatedContext, id: string, dto: UpdateUserDto): Promise<UserResponse> {
    rejectNulls(dto, ['username', 'email', 'password', 'role']);
    const scope = tenantOf(ctx);
    const current = await this.users.findById(scope, id);
    if (current === null) throw UserErrors.notFound();
    this.assertMayManage(ctx.principal, current);
    if (dto.role !== undefined && dto.role !== current.role)
      this.assertMayGrant(ctx.principal, dto.role);

    const changes: UserChanges = {};
    if (dto.username !== undefined) changes.username = dto.username;
    if (dto.email !== undefined) changes.email = dto.email.toLowerCase();
    if (dto.full_name !== undefined) changes.fullName = dto.full_name;
    if (dto.telegram_chat_id !== undefined) changes.telegramChatId = dto.telegram_chat_id;
    if (dto.password !== undefined) changes.passwordHash = await hashPassword(dto.password);
    if (dto.role !== undefined) changes.role = dto.role;
    return toUserResponse(await this.users.update(scope, ctx, id, changes));
  }

  async remove(ctx: AuthenticatedContext, id: string): Promise<void> {
    const scope = tenantOf(ctx);
    const current = await this.users.findById(scope, id);
    if (current === null) throw UserErrors.notFound();
    this.assertMayManage(ctx.principal, current);
    await this.users.remove(scope, ctx, id);
  }

  /** Roles are membership management: members:write, and only an owner makes owners. */
  private assertMayGrant(principal: Principal, role: Role): void {
    if (!allows(principal.permissions, 'members:write')) throw UserErrors.roleNeedsMembersWrite();
    if (role === 'owner' && !allows(principal.permissions, 'admin')) throw UserErrors.ownerGrant();
  }

  /** An owner's account is changed only by themselves or another owner. */
  private assertMayManage(principal: Principal, target: Member): void {
    if (
      target.role === 'owner' &&
      !isSelf(principal, target.user.id) &&
      !allows(principal.permissions, 'admin')
    ) {
      throw UserErrors.ownerGrant();
    }
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

  organizationsOf(userId: string) {
    return this.users.organizationsOf(userId);
  }
}
