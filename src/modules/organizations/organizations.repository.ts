import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager, LessThanOrEqual } from 'typeorm';
import type { PageQuery } from '../../common/pagination.js';
import type { Role } from '../../common/permissions.js';
import type { RequestContext } from '../../common/request-context.js';
import { withUniqueConflict } from '../../database/postgres-errors.js';
import type { TenantScope } from '../../database/tenant-scope.js';
import { diff, recordAudit } from '../audit/audit-record.js';
import { User } from '../users/user.entity.js';
import { Invitation } from './invitation.entity.js';
import { type InvitationRow, inviteWithOrganizationName } from './invitation-writes.js';
import { addMemberEvent } from './member-events.js';
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

/** A row of the members list: a membership, or a pending invitation (no account data). */
export interface MemberListRow {
  userId: string;
  status: 'active' | 'invited';
  username: string | null;
  email: string | null;
  fullName: string | null;
  role: Role;
  joinedAt: Date | null;
  invitationId: string | null;
  expiresAt: Date | null;
}

/** The organizations service reads the invite result's type from here. */

interface RawMemberListRow {
  user_id: string;
  status: 'active' | 'invited';
  username: string | null;
  email: string | null;
  full_name: string | null;
  role: Role;
  joined_at: Date | null;
  invitation_id: string | null;
  expires_at: Date | null;
}

/** Memberships, then pending invitations, of organization $1, oldest first. */
const MEMBERS_SQL = `
  SELECT m.user_id, 'active' AS status, u.username::text AS username, u.email::text AS email,
         u.full_name, m.role, m.created_at AS joined_at, NULL::uuid AS invitation_id,
         NULL::timestamptz AS expires_at, m.created_at AS since
  FROM memberships m JOIN users u ON u.id = m.user_id
  WHERE m.organization_id = $1
  UNION ALL
  SELECT i.user_id, 'invited', NULL, i.email::text, NULL, i.role, NULL, i.id, i.expires_at,
         i.created_at
  FROM invitations i
  WHERE i.organization_id = $1 AND i.expires_at > now()`;

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

  async listMembers(scope: TenantScope, page: PageQuery): Promise<[MemberListRow[], number]> {
    await this.dataSource.manager.delete(Invitation, {
      organizationId: scope.organizationId,
      expiresAt: LessThanOrEqual(new Date()),
    });
    const [{ total }] = await this.dataSource.query<[{ total: string }]>(
      `SELECT count(*) AS total FROM (${MEMBERS_SQL}) members`,
      [scope.organizationId],
    );
    const rows = await this.dataSource.query<RawMemberListRow[]>(
      `SELECT * FROM (${MEMBERS_SQL}) members ORDER BY since, user_id LIMIT $2 OFFSET $3`,
      [scope.organizationId, page.limit, page.offset],
    );
    return [
      rows.map((row) => ({
        userId: row.user_id,
        status: row.status,
        username: row.username,
        email: row.email,
        fullName: row.full_name,
        role: row.role,
        joinedAt: row.joined_at,
        invitationId: row.invitation_id,
        expiresAt: row.expires_at,
      })),
      Number(total),
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

  /** Invites an existing account (a membership only once its holder accepts). */
  async invite(
    scope: TenantScope,
    ctx: RequestContext,
    userId: string,
    role: Role,
    email: string | null,
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

  /** The organization's pending invitation of a user, if any. */
  async findInvitation(scope: TenantScope, userId: string): Promise<Invitation | null> {
    const invitation = await this.dataSource.manager.findOneBy(Invitation, {
      organizationId: scope.organizationId,
      userId,
    });
    return invitation !== null && invitation.expiresAt.getTime() > Date.now() ? invitation : null;
  }

  async cancelInvitation(scope: TenantScope, ctx: RequestContext, userId: string): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      const invitation = await manager.findOne(Invitation, {
        where: { organizationId: scope.organizationId, userId },
        lock: { mode: 'pessimistic_write' },
      });
      if (invitation === null) throw OrganizationErrors.memberNotFound();
      await manager.delete(Invitation, { id: invitation.id });
      await recordAudit(manager, ctx, {
        action: 'organization.invitation_cancelled',
        organizationId: scope.organizationId,
        target: { type: 'user', id: userId },
        changes: { invitation_id: invitation.id, role: invitation.role },
      });
    });
  }

  /** The account's pending invitations, oldest first; expired ones are deleted on the way. */
  async listInvitationsForUser(
    userId: string,
    page: PageQuery,
  ): Promise<[InvitationRow[], number]> {
    await this.dataSource.manager.delete(Invitation, {
      userId,
      expiresAt: LessThanOrEqual(new Date()),
    });
    const query = this.dataSource.manager
      .createQueryBuilder(Invitation, 'i')
      .innerJoin(Organization, 'o', 'o.id = i.organization_id')
      .addSelect('o.name', 'organization_name')
      .where('i.user_id = :userId AND i.expires_at > now()', { userId })
      .orderBy('i.created_at', 'ASC')
      .addOrderBy('i.id', 'ASC');
    const total = await query.getCount();
    const { entities, raw } = await query
      .offset(page.offset)
      .limit(page.limit)
      .getRawAndEntities<{ organization_name: string }>();
    return [
      entities.map((invitation, i) => ({
        invitation,
        organizationName: raw[i]?.organization_name ?? '',
      })),
      total,
    ];
  }

  /**
   * The holder accepts: the invitation becomes a membership, in one transaction with its audit
   * entry. The account now belongs to another organization, so administrators' pending
   * password resets of it are void (they were allowed only for unshared accounts).
   */
  async acceptInvitation(
    ctx: RequestContext,
    userId: string,
    id: string,
  ): Promise<{ organization: Organization; role: Role; joinedAt: Date }> {
    return this.dataSource.transaction(async (manager) => {
      const invitation = await this.lockPending(manager, userId, id);
      await manager.delete(Invitation, { id });
      const { organizationId, role } = invitation;
      const existing = await manager.findOneBy(Membership, { organizationId, userId });
      if (existing === null) await manager.insert(Membership, { organizationId, userId, role });
      await manager.query('DELETE FROM password_resets WHERE user_id = $1', [userId]);
      await recordAudit(manager, ctx, {
        action: 'organization.invitation_accepted',
        organizationId,
        actor: { type: 'user', id: userId },
        target: { type: 'user', id: userId },
        changes: { invitation_id: id, role: existing?.role ?? role },
      });
      const membership = await manager.findOneByOrFail(Membership, { organizationId, userId });
      if (existing === null) await addMemberEvent(manager, 'organization.member_added', membership);
      const organization = await manager.findOneByOrFail(Organization, { id: organizationId });
      return { organization, role: membership.role, joinedAt: membership.createdAt };
    });
  }

  /** The holder declines: the invitation is deleted; nothing else remains of it. */
  async declineInvitation(ctx: RequestContext, userId: string, id: string): Promise<string> {
    return this.dataSource.transaction(async (manager) => {
      const invitation = await this.lockPending(manager, userId, id);
      await manager.delete(Invitation, { id });
      await recordAudit(manager, ctx, {
        action: 'organization.invitation_declined',
        organizationId: invitation.organizationId,
        actor: { type: 'user', id: userId },
        target: { type: 'user', id: userId },
        changes: { invitation_id: id, role: invitation.role },
      });
      return invitation.organizationId;
    });
  }

  /** The caller's own unexpired invitation, locked; anyone else's or an expired one is a 404. */
  private async lockPending(
    manager: EntityManager,
    userId: string,
    id: string,
  ): Promise<Invitation> {
    const invitation = await manager.findOne(Invitation, {
      where: { id, userId },
      lock: { mode: 'pessimistic_write' },
    });
    if (invitation === null || invitation.expiresAt.getTime() <= Date.now())
      throw OrganizationErrors.invitationNotFound();
    return invitation;
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
      await addMemberEvent(manager, 'organization.member_removed', membership);
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
