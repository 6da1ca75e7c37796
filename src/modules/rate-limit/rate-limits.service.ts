import { Injectable } from '@nestjs/common';
import { type FieldError, CommonErrors, err } from '../../common/app-error.js';
import { type AuthenticatedContext, tenantOf } from '../../common/request-context.js';
import { TIERS } from '../organizations/organization.entity.js';
import { OrganizationLimitsStore } from './organization-limits-store.js';
import { parsePolicySet } from './policy-set.js';
import { PolicyStore } from './policy-store.js';
import type { PolicySet } from './rate-limit-setting.entity.js';
import type { RateLimitsResponse, UpdateRateLimitsDto } from './rate-limits.dto.js';
import { MAX_ENDPOINT_OVERRIDES } from './rate-limits.dto.js';
import { RateLimitsRepository, type SettingRow } from './rate-limits.repository.js';

const platformAdminOnly = err(
  'PERMISSION_DENIED',
  'Only platform administrators change global and tier limits',
);
const ROUTE = /^\/api\/v\d+\/[A-Za-z0-9_\-/:{}.]*$/;

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

@Injectable()
export class RateLimitsService {
  constructor(
    private readonly repository: RateLimitsRepository,
    private readonly store: PolicyStore,
    private readonly organizations: OrganizationLimitsStore,
  ) {}

  async get(ctx: AuthenticatedContext): Promise<RateLimitsResponse> {
    const snapshot = this.store.snapshot;
    const organization = await this.organizations.limitsOf(ctx.principal.organizationId);
    return {
      global: snapshot.global,
      tiers: snapshot.tiers,
      organization: organization?.own ?? null,
      endpoints: organization?.endpoints ?? {},
    };
  }

  async update(ctx: AuthenticatedContext, dto: UpdateRateLimitsDto): Promise<RateLimitsResponse> {
    const isPlatformAdmin = ctx.principal.type === 'user' && ctx.principal.isPlatformAdmin;
    if ((dto.global !== undefined || dto.tiers !== undefined) && !isPlatformAdmin)
      throw platformAdminOnly();
    const errors: FieldError[] = [];
    // A part sent as null (or not an object) is a 400 like any other bad value.
    for (const part of ['global', 'tiers', 'endpoints'] as const) {
      if (dto[part] !== undefined && !isRecord(dto[part]))
        errors.push({ field: part, message: `${part} must be an object` });
    }
    if (errors.length > 0) throw CommonErrors.validation(errors);

    const rows: SettingRow[] = [];
    if (dto.global !== undefined)
      rows.push({
        scope: 'global',
        organizationId: null,
        policies: parsePolicySet(dto.global, 'global', errors),
      });
    for (const [tier, set] of Object.entries(dto.tiers ?? {})) {
      if (!(TIERS as readonly string[]).includes(tier))
        errors.push({ field: `tiers.${tier}`, message: `tier must be one of ${TIERS.join(', ')}` });
      else
        rows.push({
          scope: `tier:${tier}`,
          organizationId: null,
          policies: parsePolicySet(set, `tiers.${tier}`, errors),
        });
    }
    const { organizationId } = tenantOf(ctx);
    if (dto.endpoints !== undefined) {
      const routes = Object.keys(dto.endpoints);
      // Counted before anything else walks them (the DTO's validator says the same).
      if (routes.length > MAX_ENDPOINT_OVERRIDES)
        throw CommonErrors.validation([
          {
            field: 'endpoints',
            message: `an organization may override at most ${MAX_ENDPOINT_OVERRIDES} endpoints`,
          },
        ]);
      const endpoints: Record<string, PolicySet> = {};
      for (const route of routes) {
        if (!ROUTE.test(route))
          errors.push({
            field: `endpoints.${route}`,
            message: 'must be a route such as /api/v1/users',
          });
        else endpoints[route] = parsePolicySet(dto.endpoints[route], `endpoints.${route}`, errors);
      }
      rows.push({ scope: `org:${organizationId}`, organizationId, policies: endpoints });
    }
    if (errors.length > 0) throw CommonErrors.validation(errors);

    if (rows.length > 0) await this.repository.save(ctx, organizationId, rows);
    // Global and tier sets reload everywhere (a few rows); endpoint overrides only for this organization.
    if (dto.global !== undefined || dto.tiers !== undefined) await this.store.changed();
    if (dto.endpoints !== undefined) await this.organizations.changed(organizationId);
    return this.get(ctx);
  }
}
