import { Injectable } from '@nestjs/common';
import { rejectNulls } from '../../common/validation.js';
import { type FieldError, CommonErrors } from '../../common/app-error.js';
import { type Page, page } from '../../common/envelope.js';
import type { PageQuery } from '../../common/pagination.js';
import { type Role, allows } from '../../common/permissions.js';
import { type AuthenticatedContext, tenantOf } from '../../common/request-context.js';
import { slugWithSuffix } from '../../common/slug.js';
import { KeysService } from '../keys/keys.service.js';
import { QuotaStore } from '../quota/quota-store.js';
import { OrganizationLimitsStore } from '../rate-limit/organization-limits-store.js';
import { parsePolicySet } from '../rate-limit/policy-set.js';
import type { PolicySet } from '../rate-limit/rate-limit-setting.entity.js';
import type { Organization, Tier } from './organization.entity.js';
import type {
  AddMemberDto,
  CreateOrganizationDto,
  MemberResponse,
  OrganizationResponse,
  UpdateOrganizationDto,
} from './organizations.dto.js';
import { OrganizationErrors } from './organizations.errors.js';
import { type MemberRow, OrganizationsRepository } from './organizations.repository.js';

function toResponse(organization: Organization, role: Role): OrganizationResponse {
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

function toMember({ user, role, joinedAt }: MemberRow): MemberResponse {
  return {
    user_id: user.id,
    username: user.username,
    email: user.email,
    full_name: user.fullName,
    role,
    joined_at: joinedAt.toISOString(),
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
  return ctx.principal.type === 'user' ? ctx.principal.role : 'admin';
}

/**
 * Organizations and their members. Reads reach any organization the user belongs to;
 * changes apply to the credential's own organization only, and any other id is a 404.
 */
@Injectable()
export class OrganizationsService {
  constructor(
    private readonly organizations: OrganizationsRepository,
    private readonly keys: KeysService,
    private readonly limits: OrganizationLimitsStore,
    private readonly quotas: QuotaStore,
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
      const found = await this.organizations.findForUser(principal.userId, id);
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
    await Promise.all([this.limits.changed(id), this.quotas.changed(id)]);
  }

  async listMembers(
    ctx: AuthenticatedContext,
    id: string,
    query: PageQuery,
  ): Promise<Page<MemberResponse>> {
    await this.own(ctx, id);
    const [rows, total] = await this.organizations.listMembers(tenantOf(ctx), query);
    return page(rows.map(toMember), total, query);
  }

  async addMember(
    ctx: AuthenticatedContext,
    id: string,
    dto: AddMemberDto,
  ): Promise<MemberResponse> {
    await this.own(ctx, id);
    if (dto.user_id !== undefined && dto.email !== undefined) {
      throw CommonErrors.validation([
        { field: 'email', message: 'give user_id or email, not both' },
      ]);
    }
    this.assertMayGrant(ctx, dto.role);
    const userId = await this.organizations.findUserId({
      userId: dto.user_id,
      email: dto.email?.toLowerCase(),
    });
    if (userId === null) throw OrganizationErrors.userNotFound();
    return toMember(await this.organizations.addMember(tenantOf(ctx), ctx, userId, dto.role));
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
    if (member.role === 'owner' || role === 'owner') this.assertMayGrant(ctx, 'owner');
    return toMember(await this.organizations.changeMemberRole(tenantOf(ctx), ctx, userId, role));
  }

  async removeMember(ctx: AuthenticatedContext, id: string, userId: string): Promise<void> {
    await this.own(ctx, id);
    const member = await this.organizations.findMember(tenantOf(ctx), userId);
    if (member === null) throw OrganizationErrors.memberNotFound();
    const leavingThemselves = ctx.principal.type === 'user' && ctx.principal.userId === userId;
    if (member.role === 'owner' && !leavingThemselves) this.assertMayGrant(ctx, 'owner');
    await this.organizations.removeMember(tenantOf(ctx), ctx, userId);
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

  private assertMayGrant(ctx: AuthenticatedContext, role: Role): void {
    if (role === 'owner' && !allows(ctx.principal.permissions, 'admin'))
      throw OrganizationErrors.ownerGrant();
  }

  private assertMaySetPlan(ctx: AuthenticatedContext): void {
    if (ctx.principal.type !== 'user' || !ctx.principal.isPlatformAdmin)
      throw OrganizationErrors.tierChange();
  }
}
