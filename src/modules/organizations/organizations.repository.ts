import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { PageQuery } from '../../common/pagination.js';
import type { Role } from '../../common/permissions.js';
import type { RequestContext } from '../../common/request-context.js';
import { withUniqueConflict } from '../../database/postgres-errors.js';
import type { TenantScope } from '../../database/tenant-scope.js';
import { diff, recordAudit } from '../audit/audit-record.js';
import { User } from '../users/user.entity.js';
import { Membership } from './membership.entity.js';
import { changeRole, findMembership, removeMembership } from './membership-writes.js';
import type { PolicySet } from '../rate-limit/rate-limit-setting.entity.js';
import { Organization, type Tier } from './organization.entity.js';
import { OrganizationErrors } from './organizations.errors.js';

export interface OrganizationWithRole {
  organization: Organization;
  role: Role;
}

export interface MemberRow {
  user: User;
  role: Role;
  joinedAt: Date;
}

function auditable(org: Partial<Organization>): Record<string, unknown> {
  return { name: org.name, slug: org.slug, tier: org.tier, rate_limits: org.rateLimits ?? null };
}

@Injectable()
export class OrganizationsRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** The organizations a user belongs to, with their role in each. */
  async listForUser(userId: string, page: PageQuery): Promise<[OrganizationWithRole[], number]> {
    const query = this.dataSource.manager
      .createQueryBuilder(Organization, 'o')
      .innerJoin(Membership, 'm', 'm.organization_id = o.id AND m.user_id = :userId', { userId })
      .addSelect('m.role', 'member_role')
      .orderBy('m.created_at', 'ASC')
      .addOrderBy('o.id', 'ASC');
    const total = await query.getCount();
    const { entities, raw } = await query
      .offset(page.offset)
      .limit(page.limit)
      .getRawAndEntities<{ member_role: Role }>();
    return [
      entities.map((organization, i) => ({ organization, role: raw[i]?.member_role ?? 'viewer' })),
      total,
    ];
  }

  async findForUser(userId: string, id: string): Promise<OrganizationWithRole | null> {
    const membership = await this.dataSource.manager.findOneBy(Membership, {
      organizationId: id,
      userId,
    });
    if (membership === null) return null;
    const organization = await this.dataSource.manager.findOneBy(Organization, { id });
    return organization === null ? null : { organization, role: membership.role };
  }

  async findInScope(scope: TenantScope): Promise<Organization | null> {
    return this.dataSource.manager.findOneBy(Organization, { id: scope.organizationId });
  }

  async create(
    ctx: RequestContext,
    ownerId: string,
    input: { name: string; slug: string },
  ): Promise<Organization> {
    return withUniqueConflict(
      () =>
        this.dataSource.transaction(async (manager) => {
          const organization = await manager.save(manager.create(Organization, input));
          await manager.insert(Membership, {
            organizationId: organization.id,
            userId: ownerId,
            role: 'owner',
          });
          await recordAudit(manager, ctx, {
            action: 'organization.created',
            organizationId: organization.id,
            target: { type: 'organization', id: organization.id },
            changes: auditable(organization),
          });
          return organization;
        }),
      OrganizationErrors.slugTaken,
    );
  }

  async update(
    scope: TenantScope,
    ctx: RequestContext,
    changes: { name?: string; slug?: string; tier?: Tier; rateLimits?: PolicySet | null },
  ): Promise<Organization> {
    return withUniqueConflict(
      () =>
        this.dataSource.transaction(async (manager) => {
          const before = await manager.findOne(Organization, {
            where: { id: scope.organizationId },
            lock: { mode: 'pessimistic_write' },
          });
          if (before === null) throw OrganizationErrors.notFound();
          if (Object.keys(changes).length > 0)
            await manager.update(Organization, { id: scope.organizationId }, changes);
          const after = await manager.findOneByOrFail(Organization, { id: scope.organizationId });
          await recordAudit(manager, ctx, {
            action: 'organization.updated',
            organizationId: scope.organizationId,
            target: { type: 'organization', id: scope.organizationId },
            changes: diff(auditable(before), auditable(after)),
          });
          return after;
        }),
      OrganizationErrors.slugTaken,
    );
  }

  /** Deletes the organization; its memberships, projects and sessions go with it (FK cascade). */
  async remove(scope: TenantScope, ctx: RequestContext): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      const organization = await manager.findOneBy(Organization, { id: scope.organizationId });
      if (organization === null) throw OrganizationErrors.notFound();
      await manager.delete(Organization, { id: scope.organizationId });
      await recordAudit(manager, ctx, {
        action: 'organization.deleted',
        organizationId: scope.organizationId,
        target: { type: 'organization', id: scope.organizationId },
        changes: auditable(organization),
      });
    });
  }

  async listMembers(scope: TenantScope, page: PageQuery): Promise<[MemberRow[], number]> {
    const query = this.dataSource.manager
      .createQueryBuilder(User, 'u')
      .innerJoin(Membership, 'm', 'm.user_id = u.id AND m.organization_id = :organizationId', scope)
      .addSelect(['m.role AS member_role', 'm.created_at AS joined_at'])
      .orderBy('m.created_at', 'ASC')
      .addOrderBy('u.id', 'ASC');
    const total = await query.getCount();
    const { entities, raw } = await query
      .offset(page.offset)
      .limit(page.limit)
      .getRawAndEntities<{ member_role: Role; joined_at: Date }>();
    return [
      entities.map((user, i) => ({
        user,
        role: raw[i]?.member_role ?? 'viewer',
        joinedAt: raw[i]?.joined_at ?? user.createdAt,
      })),
      total,
    ];
  }

  async findMember(scope: TenantScope, userId: string): Promise<MemberRow | null> {
    const membership = await this.dataSource.manager.findOneBy(Membership, {
      organizationId: scope.organizationId,
      userId,
    });
    if (membership === null) return null;
    const user = await this.dataSource.manager.findOneByOrFail(User, { id: userId });
    return { user, role: membership.role, joinedAt: membership.createdAt };
  }

  async findUserId(by: { userId?: string; email?: string }): Promise<string | null> {
    const user = await this.dataSource.manager.findOneBy(
      User,
      by.userId !== undefined ? { id: by.userId } : { email: by.email ?? '' },
    );
    return user?.id ?? null;
  }

  async addMember(
    scope: TenantScope,
    ctx: RequestContext,
    userId: string,
    role: Role,
  ): Promise<MemberRow> {
    return this.dataSource.transaction(async (manager) => {
      const existing = await manager.findOneBy(Membership, {
        organizationId: scope.organizationId,
        userId,
      });
      if (existing !== null) throw OrganizationErrors.alreadyMember();
      await manager.insert(Membership, { organizationId: scope.organizationId, userId, role });
      await recordAudit(manager, ctx, {
        action: 'organization.member_added',
        organizationId: scope.organizationId,
        target: { type: 'user', id: userId },
        changes: { role },
      });
      const user = await manager.findOneByOrFail(User, { id: userId });
      const membership = await manager.findOneByOrFail(Membership, {
        organizationId: scope.organizationId,
        userId,
      });
      return { user, role, joinedAt: membership.createdAt };
    });
  }

  async changeMemberRole(
    scope: TenantScope,
    ctx: RequestContext,
    userId: string,
    role: Role,
  ): Promise<MemberRow> {
    return this.dataSource.transaction(async (manager) => {
      const membership = await findMembership(manager, scope.organizationId, userId);
      if (membership === null) throw OrganizationErrors.memberNotFound();
      const previous = await changeRole(manager, membership, role);
      await recordAudit(manager, ctx, {
        action: 'organization.member_role_changed',
        organizationId: scope.organizationId,
        target: { type: 'user', id: userId },
        changes: { role: { from: previous, to: role } },
      });
      const user = await manager.findOneByOrFail(User, { id: userId });
      return { user, role, joinedAt: membership.createdAt };
    });
  }

  async removeMember(scope: TenantScope, ctx: RequestContext, userId: string): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      const membership = await findMembership(manager, scope.organizationId, userId);
      if (membership === null) throw OrganizationErrors.memberNotFound();
      await removeMembership(manager, membership);
      await recordAudit(manager, ctx, {
        action: 'organization.member_removed',
        organizationId: scope.organizationId,
        target: { type: 'user', id: userId },
        changes: { role: membership.role },
      });
    });
  }
}
