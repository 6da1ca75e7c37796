import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager, IsNull, Not } from 'typeorm';
import type { PageQuery } from '../../common/pagination.js';
import type { Role } from '../../common/permissions.js';
import type { RequestContext } from '../../common/request-context.js';
import { withUniqueConflict } from '../../database/postgres-errors.js';
import type { TenantScope } from '../../database/tenant-scope.js';
import { diff, recordAudit } from '../audit/audit-record.js';
import { endSessions } from '../auth/session-writes.js';
import {
  type InvitationRow,
  inviteWithOrganizationName,
} from '../organizations/invitation-writes.js';
import { Membership } from '../organizations/membership.entity.js';
import {
  changeRole,
  findMembership,
  hasMemberships,
  removeMembership,
} from '../organizations/membership-writes.js';
import { addMemberEvent } from '../organizations/member-events.js';
import { Organization } from '../organizations/organization.entity.js';
import { addOutboxEvent } from '../webhooks/outbox-writer.js';
import { PasswordReset } from './password-reset.entity.js';
import { toUserResponse } from './user-response.js';
import { User } from './user.entity.js';
import { UserErrors } from './users.errors.js';

/** A user as seen from one organization: the account and its role there. */
export interface Member {
  user: User;
  role: Role;
}

export interface NewUser {
  username: string;
  email: string;
  passwordHash: string | null;
  fullName: string | null;
  telegramChatId: string | null;
  isPlatformAdmin: boolean;
}

/** What an organization may change of a member: the role, and an unshared account's details. */
export type UserChanges = Partial<Pick<NewUser, 'fullName' | 'telegramChatId'>> & { role?: Role };

/** What the account holder may change of their own account (PATCH /auth/me). */
export type AccountChanges = Partial<Omit<NewUser, 'isPlatformAdmin'>>;

/** Fields of a user that the audit trail shows (never the password hash). */
export function auditable(user: Partial<User>): Record<string, unknown> {
  return {
    username: user.username,
    email: user.email,
    full_name: user.fullName,
    telegram_chat_id: user.telegramChatId,
  };
}

@Injectable()
export class UsersRepository {
  constructor(private readonly dataSource: DataSource) {}

  private members(scope: TenantScope, manager: EntityManager = this.dataSource.manager) {
    return manager
      .createQueryBuilder(User, 'u')
      .innerJoin(Membership, 'm', 'm.user_id = u.id AND m.organization_id = :organizationId', scope)
      .addSelect('m.role', 'member_role');
  }

  async list(
    scope: TenantScope,
    filter: { email?: string; q?: string },
    page: PageQuery,
  ): Promise<[Member[], number]> {
    const query = this.members(scope).orderBy('u.created_at', 'ASC').addOrderBy('u.id', 'ASC');
    if (filter.email !== undefined) query.andWhere('u.email = :email', { email: filter.email });
    if (filter.q !== undefined) {
      query.andWhere(
        "(u.username ILIKE :q OR u.email ILIKE :q OR coalesce(u.full_name, '') ILIKE :q)",
        {
          q: `%${filter.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`,
        },
      );
    }
    const total = await query.getCount();
    const { entities, raw } = await query
      .offset(page.offset)
      .limit(page.limit)
      .getRawAndEntities<{ member_role: Role }>();
    return [entities.map((user, i) => ({ user, role: raw[i]?.member_role ?? 'viewer' })), total];
  }

  async findById(scope: TenantScope, id: string): Promise<Member | null> {
    const { entities, raw } = await this.members(scope)
      .where('u.id = :id', { id })
      .getRawAndEntities<{ member_role: Role }>();
    const user = entities[0];
    return user && raw[0] ? { user, role: raw[0].member_role } : null;
  }

  /** Creates an account and its membership in the scope's organization, with an audit entry. */
  async create(
    scope: TenantScope,
    ctx: RequestContext,
    input: NewUser,
    role: Role,
  ): Promise<Member> {
    return withUniqueConflict(
      () =>
        this.dataSource.transaction(async (manager) => {
          const user = await manager.save(manager.create(User, input));
          await manager.insert(Membership, {
            organizationId: scope.organizationId,
            userId: user.id,
            role,
          });
          await recordAudit(manager, ctx, {
            action: 'user.created',
            organizationId: scope.organizationId,
            target: { type: 'user', id: user.id },
            changes: { ...auditable(user), role },
          });
          const { organizationId } = scope;
          const data = toUserResponse({ user, role });
          await addOutboxEvent(manager, { organizationId, type: 'user.created', data });
          const membership = { organizationId, userId: user.id, role, createdAt: user.createdAt };
          await addMemberEvent(manager, 'organization.member_added', membership);
          return { user, role };
        }),
      UserErrors.duplicate,
    );
  }

  /** Self-service sign-up: the account, a new organization it owns, and the audit entry. */
  async register(
    ctx: RequestContext,
    input: NewUser,
    organization: { name: string; slug: string },
  ): Promise<{ user: User; organization: Organization }> {
    return withUniqueConflict(
      () =>
        this.dataSource.transaction(async (manager) => {
          const user = await manager.save(manager.create(User, input));
          const org = await manager.save(manager.create(Organization, organization));
          await manager.insert(Membership, {
            organizationId: org.id,
            userId: user.id,
            role: 'owner',
          });
          await recordAudit(manager, ctx, {
            action: 'user.registered',
            organizationId: org.id,
            actor: { type: 'user', id: user.id },
            target: { type: 'user', id: user.id },
            changes: { ...auditable(user), organization: { id: org.id, name: org.name } },
          });
          return { user, organization: org };
        }),
      UserErrors.duplicate,
    );
  }

  async update(
    scope: TenantScope,
    ctx: RequestContext,
    id: string,
    changes: UserChanges,
  ): Promise<Member> {
    return withUniqueConflict(
      () =>
        this.dataSource.transaction(async (manager) => {
          const membership = await findMembership(manager, scope.organizationId, id);
          if (membership === null) throw UserErrors.notFound();
          const before = await manager.findOneByOrFail(User, { id });
          const { role, ...fields } = changes;
          if (Object.keys(fields).length > 0) await manager.update(User, { id }, fields);
          const previousRole =
            role === undefined ? membership.role : await changeRole(manager, membership, role);
          const after = await manager.findOneByOrFail(User, { id });
          const audit = diff(
            { ...auditable(before), role: previousRole },
            { ...auditable(after), role: role ?? membership.role },
          );
          await recordAudit(manager, ctx, {
            action: 'user.updated',
            organizationId: scope.organizationId,
            target: { type: 'user', id },
            changes: audit,
          });
          const data = toUserResponse({ user: after, role: role ?? membership.role });
          await addOutboxEvent(manager, { ...scope, type: 'user.updated', data });
          return { user: after, role: role ?? membership.role };
        }),
      UserErrors.duplicate,
    );
  }

  /**
   * Removes the user from the scope's organization; an account left in no organization is
   * deleted. Other organizations' memberships are never touched.
   */
  async remove(scope: TenantScope, ctx: RequestContext, id: string): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      const membership = await findMembership(manager, scope.organizationId, id);
      if (membership === null) throw UserErrors.notFound();
      const user = await manager.findOneByOrFail(User, { id });
      const { role } = membership;
      await addMemberEvent(manager, 'organization.member_removed', membership);
      await removeMembership(manager, membership);
      const accountDeleted = !(await hasMemberships(manager, id));
      if (accountDeleted) await manager.delete(User, { id });
      await recordAudit(manager, ctx, {
        action: 'user.deleted',
        organizationId: scope.organizationId,
        target: { type: 'user', id },
        changes: { ...auditable(user), role: membership.role, account_deleted: accountDeleted },
      });
      const data = { ...toUserResponse({ user, role }), account_deleted: accountDeleted };
      await addOutboxEvent(manager, { ...scope, type: 'user.deleted', data });
    });
  }

  /** Whether the account belongs to an organization other than the scope's. */
  async belongsElsewhere(scope: TenantScope, id: string): Promise<boolean> {
    const others = await this.dataSource.manager.countBy(Membership, {
      userId: id,
      organizationId: Not(scope.organizationId),
    });
    return others > 0;
  }

  async findIdByEmail(email: string): Promise<string | null> {
    const user = await this.dataSource.manager.findOneBy(User, { email });
    return user?.id ?? null;
  }

  /** Invites an existing account to the scope's organization. */
  async invite(
    scope: TenantScope,
    ctx: RequestContext,
    userId: string,
    role: Role,
    email: string,
  ): Promise<InvitationRow> {
    return this.dataSource.transaction((manager) =>
      inviteWithOrganizationName(manager, ctx, {
        organizationId: scope.organizationId,
        userId,
        role,
        email,
      }),
    );
  }

  /**
   * The holder's own change of their account; a new password ends every other session
   * (refresh-token family) of the account, keeping `keepSession` when the token named one.
   */
  async updateAccount(
    ctx: RequestContext,
    organizationId: string,
    id: string,
    changes: AccountChanges,
    keepSession: string | null,
  ): Promise<User> {
    return withUniqueConflict(
      () =>
        this.dataSource.transaction(async (manager) => {
          const before = await manager.findOneByOrFail(User, { id });
          if (Object.keys(changes).length > 0) await manager.update(User, { id }, changes);
          const after = await manager.findOneByOrFail(User, { id });
          const audit = diff(auditable(before), auditable(after));
          if (changes.passwordHash !== undefined) {
            audit.password = '[REDACTED]';
            audit.sessions_ended = await endSessions(manager, id, keepSession);
          }
          await recordAudit(manager, ctx, {
            action: 'user.account_updated',
            organizationId,
            actor: { type: 'user', id },
            target: { type: 'user', id },
            changes: audit,
          });
          return after;
        }),
      UserErrors.duplicate,
    );
  }

  /** A new reset token (its hash) for a member; the account's earlier unused ones are void. */
  async createPasswordReset(
    scope: TenantScope,
    ctx: RequestContext,
    userId: string,
    tokenHash: Buffer,
    expiresAt: Date,
  ): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      const membership = await findMembership(manager, scope.organizationId, userId);
      if (membership === null) throw UserErrors.notFound();
      await manager.delete(PasswordReset, { userId, usedAt: IsNull() });
      const principal = ctx.principal;
      await manager.insert(PasswordReset, {
        userId,
        organizationId: scope.organizationId,
        tokenHash,
        createdBy: principal?.type === 'user' ? principal.userId : null,
        expiresAt,
      });
      await recordAudit(manager, ctx, {
        action: 'user.password_reset_issued',
        organizationId: scope.organizationId,
        target: { type: 'user', id: userId },
        changes: { expires_at: expiresAt.toISOString() },
      });
    });
  }

  /**
   * Spends a reset token: sets the password and ends every session of the account. Null when
   * the token is unknown, used or expired, or the account has since joined another
   * organization (the reset was allowed only for an account of the issuer's alone).
   */
  async completePasswordReset(
    ctx: RequestContext,
    tokenHash: Buffer,
    passwordHash: string,
  ): Promise<{ userId: string } | null> {
    return this.dataSource.transaction(async (manager) => {
      const reset = await manager.findOne(PasswordReset, {
        where: { tokenHash },
        lock: { mode: 'pessimistic_write' },
      });
      if (reset === null || reset.usedAt !== null || reset.expiresAt.getTime() <= Date.now())
        return null;
      await manager.update(PasswordReset, { id: reset.id }, { usedAt: new Date() });
      const elsewhere = await manager.countBy(Membership, {
        userId: reset.userId,
        organizationId: Not(reset.organizationId),
      });
      const stillMember = await manager.countBy(Membership, {
        userId: reset.userId,
        organizationId: reset.organizationId,
      });
      if (elsewhere > 0 || stillMember === 0) return null;
      await manager.update(User, { id: reset.userId }, { passwordHash });
      const sessionsEnded = await endSessions(manager, reset.userId, null);
      await recordAudit(manager, ctx, {
        action: 'user.password_reset_completed',
        organizationId: reset.organizationId,
        actor: { type: 'user', id: reset.userId },
        target: { type: 'user', id: reset.userId },
        changes: { sessions_ended: sessionsEnded },
      });
      return { userId: reset.userId };
    });
  }

  async findAccountWithPassword(
    id: string,
  ): Promise<(User & { passwordHash: string | null }) | null> {
    return this.dataSource.manager
      .createQueryBuilder(User, 'u')
      .addSelect('u.passwordHash')
      .where('u.id = :id', { id })
      .getOne();
  }

  /** For login: the account by username or email, with its password hash. */
  async findForLogin(login: string): Promise<(User & { passwordHash: string | null }) | null> {
    return this.dataSource.manager
      .createQueryBuilder(User, 'u')
      .addSelect('u.passwordHash')
      .where('u.username = :login OR u.email = :login', { login })
      .getOne();
  }

  async findAccount(id: string): Promise<User | null> {
    return this.dataSource.manager.findOneBy(User, { id });
  }

  /** The organizations a user belongs to, oldest membership first. */
  async organizationsOf(userId: string): Promise<{ id: string; name: string; role: Role }[]> {
    return this.dataSource.query(
      `SELECT o.id, o.name, m.role FROM memberships m JOIN organizations o ON o.id = m.organization_id
       WHERE m.user_id = $1 ORDER BY m.created_at, o.id`,
      [userId],
    );
  }
}
