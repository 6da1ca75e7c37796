import { Injectable } from '@nestjs/common';
import { rejectNulls } from '../../common/validation.js';
import { type FieldError, CommonErrors } from '../../common/app-error.js';
import { type Page, page } from '../../common/envelope.js';
import type { PageQuery } from '../../common/pagination.js';
import type { Role } from '../../common/permissions.js';
import { actingRole } from '../../common/principal.js';
import { type AuthenticatedContext, tenantOf } from '../../common/request-context.js';
import { slugWithSuffix } from '../../common/slug.js';
import { KeysService } from '../keys/keys.service.js';
import { QuotaStore } from '../quota/quota-store.js';
import { OrganizationLimitsStore } from '../rate-limit/organization-limits-store.js';
import { parsePolicySet } from '../rate-limit/policy-set.js';
import type { PolicySet } from '../rate-limit/rate-limit-setting.entity.js';
import { toMember } from './member-events.js';
import { MembershipCache } from './membership-cache.js';
import { assertMayGrant, assertMayManage } from './membership-rules.js';
import type { Organization, Tier } from './organization.entity.js';
import type {
  AcceptedInvitationResponse,
  AddMemberDto,
  CreateOrganizationDto,
  InvitationResponse,
  MemberResponse,
  OrganizationResponse,
  UpdateOrganizationDto,
} from './organizations.dto.js';
import { OrganizationErrors } from './organizations.errors.js';
import type { InvitationRow } from './invitation-writes.js';
import { type MemberListRow, OrganizationsRepository } from './organizations.repository.js';

/** What a platform administrator may change on an organization that is not the token's. */
const PLAN_FIELDS: ReadonlySet<string> = new Set(['tier', 'rate_limits']);

function toResponse(organization: Organization, role: Role | null): OrganizationResponse {
  return {
    id: organization.id,
    name: organization.name,
    slug: organization.slug,
    tier: organization.tier,
    rate_limits: organization.rateLimits,
    role,
    created_at: organization.createdAt.toISOString(),
    updated_at: organization.updatedAt.toISOString(),
  };
}

function toListedMember(row: MemberListRow): MemberResponse {
  return {
    user_id: row.userId,
    status: row.status,
    username: row.username,
    email: row.email,
    full_name: row.fullName,
    role: row.role,
    joined_at: row.joinedAt?.toISOString() ?? null,
    invitation_id: row.invitationId,
    expires_at: row.expiresAt?.toISOString() ?? null,
  };
}

export function toInvitation({ invitation, organizationName }: InvitationRow): InvitationResponse {
  return {
    id: invitation.id,
    organization_id: invitation.organizationId,
    organization_name: organizationName,
    user_id: invitation.userId,
    email: invitation.email,
    role: invitation.role,
    status: 'invited',
    expires_at: invitation.expiresAt.toISOString(),
    created_at: invitation.createdAt.toISOString(),
  };
}

/** An organization's own rate-limit set from the body: null clears it; an empty one is a 400. */
function ownSet(value: Record<string, unknown> | null): PolicySet | null {
  if (value === null) return null;
  const errors: FieldError[] = [];
  const set = parsePolicySet(value, 'rate_limits', errors);
  if (errors.length === 0 && Object.keys(set).length === 0)
    errors.push({
      field: 'rate_limits',
      message: 'rate_limits needs at least one window; null clears the set (back to the tier)',
    });
  if (errors.length > 0) throw CommonErrors.validation(errors);
  return set;
}

/** The caller's role in its own organization (an API key acts with its org's admin rights). */
function roleOf(ctx: AuthenticatedContext): Role {
  return actingRole(ctx.principal);
}

/**
 * Organizations and their members. Reads reach any organization the user belongs to;
 * changes apply to the credential's own organization only, and any other id is a 404, except
 * for a platform administrator, who reads any organization and sets its plan (tier and own
 * rate-limit set) and nothing else of it.
 */
@Injectable()
export class OrganizationsService {
  constructor(
    private readonly organizations: OrganizationsRepository,
    private readonly keys: KeysService,
    private readonly limits: OrganizationLimitsStore,
    private readonly quotas: QuotaStore,
    private readonly memberships: MembershipCache,
  ) {}

  async listMine(ctx: AuthenticatedContext, query: PageQuery): Promise<Page<OrganizationResponse>> {
    const principal = ctx.principal;
    if (principal.type === 'api_key') {
      const own = await this.organizations.findInScope(tenantOf(ctx));
      const items = own === null || query.offset > 0 ? [] : [toResponse(own, roleOf(ctx))];
      return page(items, own === null ? 0 : 1, query);
    }
    const [rows, total] = await this.organizations.listForUser(principal.userId, query);
    return page(
      rows.map(({ organization, role }) => toResponse(organization, role)),
      total,
      query,
    );
  }

  async get(ctx: AuthenticatedContext, id: string): Promise<OrganizationResponse> {
    const principal = ctx.principal;
    if (principal.type === 'user') {
      const found = principal.isPlatformAdmin
        ? await this.administered(ctx, id)
        : await this.organizations.findForUser(principal.userId, id);
      if (found === null) throw OrganizationErrors.notFound();
      return toResponse(found.organization, found.role);
    }
    return toResponse(await this.own(ctx, id), roleOf(ctx));
  }

  async create(
    ctx: AuthenticatedContext,
    dto: CreateOrganizationDto,
  ): Promise<OrganizationResponse> {
    if (ctx.principal.type !== 'user') {
      throw OrganizationErrors.keysCannotCreate();
    }
    const organization = await this.organizations.create(ctx, ctx.principal.userId, {
      name: dto.name,
      slug: dto.slug ?? slugWithSuffix(dto.name),
    });
    return toResponse(organization, 'owner');
  }

  async update(
    ctx: AuthenticatedContext,
    id: string,
    dto: UpdateOrganizationDto,
  ): Promise<OrganizationResponse> {
    rejectNulls(dto, ['name', 'slug', 'tier']);
    if (id !== ctx.principal.organizationId) return this.setPlan(ctx, id, dto);
    await this.own(ctx, id);
    const changesPlan = dto.tier !== undefined || dto.rate_limits !== undefined;
    if (changesPlan) this.assertMaySetPlan(ctx);
    const changes: {
      name?: string;
      slug?: string;
      tier?: Tier;
      rateLimits?: PolicySet | null;
    } = {};
    if (dto.name !== undefined) changes.name = dto.name;
    if (dto.slug !== undefined) changes.slug = dto.slug;
    if (dto.tier !== undefined) changes.tier = dto.tier;
    if (dto.rate_limits !== undefined) changes.rateLimits = ownSet(dto.rate_limits);
    const updated = await this.organizations.update(tenantOf(ctx), ctx, changes);
    if (changesPlan) await this.limits.changed(id);
    return toResponse(updated, roleOf(ctx));
  }

  /** Deletes the organization; its API keys (deleted with it) are refused on every process. */
  async remove(ctx: AuthenticatedContext, id: string): Promise<void> {
    await this.own(ctx, id);
    const keyIds = await this.keys.idsOf(tenantOf(ctx));
    await this.organizations.remove(tenantOf(ctx), ctx);
    await this.keys.markRevoked(tenantOf(ctx), keyIds);
    await Promise.all([
      this.limits.changed(id),
      this.quotas.changed(id),
      this.memberships.organizationDeleted(id),
    ]);
  }

  async listMembers(
    ctx: AuthenticatedContext,
    id: string,
    query: PageQuery,
  ): Promise<Page<MemberResponse>> {
    await this.own(ctx, id);
    const [rows, total] = await this.organizations.listMembers(tenantOf(ctx), query);
    return page(rows.map(toListedMember), total, query);
  }

  /** Adding an existing account is an invitation: a membership once its holder accepts. */
  async addMember(
    ctx: AuthenticatedContext,
    id: string,
    dto: AddMemberDto,
  ): Promise<InvitationResponse> {
    await this.own(ctx, id);
    if (dto.user_id !== undefined && dto.email !== undefined) {
      throw CommonErrors.validation([
        { field: 'email', message: 'give user_id or email, not both' },
      ]);
    }
    assertMayGrant(ctx.principal, dto.role);
    const email = dto.email?.toLowerCase();
    const userId = await this.organizations.findUserId({ userId: dto.user_id, email });
    if (userId === null) throw OrganizationErrors.userNotFound();
    return toInvitation(
      await this.organizations.invite(tenantOf(ctx), ctx, userId, dto.role, email ?? null),
    );
  }

  async changeMemberRole(
    ctx: AuthenticatedContext,
    id: string,
    userId: string,
    role: Role,
  ): Promise<MemberResponse> {
    await this.own(ctx, id);
    const member = await this.organizations.findMember(tenantOf(ctx), userId);
    if (member === null) throw OrganizationErrors.memberNotFound();
    assertMayManage(ctx.principal, { userId, role: member.role });
    if (role !== member.role) assertMayGrant(ctx.principal, role);
    const changed = await this.organizations.changeMemberRole(tenantOf(ctx), ctx, userId, role);
    await this.memberships.membershipChanged(userId, id);
    return toMember(changed);
  }

  /** Removes a member, or cancels a pending invitation. */
  async removeMember(ctx: AuthenticatedContext, id: string, userId: string): Promise<void> {
    await this.own(ctx, id);
    const scope = tenantOf(ctx);
    const member = await this.organizations.findMember(scope, userId);
    if (member === null) {
      const invitation = await this.organizations.findInvitation(scope, userId);
      if (invitation === null) throw OrganizationErrors.memberNotFound();
      assertMayManage(ctx.principal, { userId, role: invitation.role });
      await this.organizations.cancelInvitation(scope, ctx, userId);
      return;
    }
    assertMayManage(ctx.principal, { userId, role: member.role });
    await this.organizations.removeMember(scope, ctx, userId);
    await this.memberships.membershipChanged(userId, id);
  }

  /**
   * A platform administrator's change to an organization other than the token's: its tier and
   * own rate-limit set only (a PUT, which replaces name and slug too, is refused). Audited in
   * that organization's trail, and reloaded on every process.
   */
  private async setPlan(
    ctx: AuthenticatedContext,
    id: string,
    dto: UpdateOrganizationDto,
  ): Promise<OrganizationResponse> {
    const { role } = await this.administered(ctx, id);
    const sent = Object.entries(dto)
      .filter(([, value]) => value !== undefined)
      .map(([field]) => field);
    const others = sent.filter((field) => !PLAN_FIELDS.has(field));
    if (others.length > 0)
      throw OrganizationErrors.planOnly(
        others.map((field) => ({
          field,
          message: `${field} is not a platform administrator's to change`,
        })),
      );
    const changes: { tier?: Tier; rateLimits?: PolicySet | null } = {};
    if (dto.tier !== undefined) changes.tier = dto.tier;
    if (dto.rate_limits !== undefined) changes.rateLimits = ownSet(dto.rate_limits);
    // The administrator acts in the target organization's scope, checked just above.
    const updated = await this.organizations.update({ organizationId: id }, ctx, changes);
    if (Object.keys(changes).length > 0) await this.limits.changed(id);
    return toResponse(updated, role);
  }

  // The account holder's side of invitations (routes under /auth/invitations).

  async listInvitations(
    ctx: AuthenticatedContext,
    query: PageQuery,
  ): Promise<Page<InvitationResponse>> {
    const [rows, total] = await this.organizations.listInvitationsForUser(
      this.holderOf(ctx),
      query,
    );
    return page(rows.map(toInvitation), total, query);
  }

  async acceptInvitation(
    ctx: AuthenticatedContext,
    invitationId: string,
  ): Promise<AcceptedInvitationResponse> {
    const userId = this.holderOf(ctx);
    const accepted = await this.organizations.acceptInvitation(ctx, userId, invitationId);
    // A token of this organization may have been refused (and that answer cached) before.
    await this.memberships.membershipChanged(userId, accepted.organization.id);
    return {
      organization_id: accepted.organization.id,
      organization_name: accepted.organization.name,
      role: accepted.role,
      joined_at: accepted.joinedAt.toISOString(),
    };
  }

  async declineInvitation(ctx: AuthenticatedContext, invitationId: string): Promise<void> {
    await this.organizations.declineInvitation(ctx, this.holderOf(ctx), invitationId);
  }

  /** Invitations are answered by the account holder only, never by an API key. */
  private holderOf(ctx: AuthenticatedContext): string {
    if (ctx.principal.type !== 'user') throw OrganizationErrors.usersOnly();
    return ctx.principal.userId;
  }

  /** The credential's own organization, when `id` names it; anything else does not exist. */
  private async own(ctx: AuthenticatedContext, id: string): Promise<Organization> {
    const organization =
      id === ctx.principal.organizationId
        ? await this.organizations.findInScope(tenantOf(ctx))
        : null;
    if (organization === null) throw OrganizationErrors.notFound();
    return organization;
  }

  /**
   * Any organization, for a platform administrator, with their role in it (null when they are
   * not a member); for anyone else an organization they do not act in does not exist.
   */
  private async administered(
    ctx: AuthenticatedContext,
    id: string,
  ): Promise<{ organization: Organization; role: Role | null }> {
    const principal = ctx.principal;
    if (principal.type !== 'user' || !principal.isPlatformAdmin)
      throw OrganizationErrors.notFound();
    const membership = await this.organizations.findForUser(principal.userId, id);
    if (membership !== null) return membership;
    const organization = await this.organizations.findInScope({ organizationId: id });
    if (organization === null) throw OrganizationErrors.notFound();
    return { organization, role: null };
  }

  private assertMaySetPlan(ctx: AuthenticatedContext): void {
    if (ctx.principal.type !== 'user' || !ctx.principal.isPlatformAdmin)
      throw OrganizationErrors.tierChange();
  }
}
