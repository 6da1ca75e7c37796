import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { type FieldError, CommonErrors, err } from '../../common/app-error.js';
import { type AuthenticatedContext, tenantOf } from '../../common/request-context.js';
import { rejectNulls } from '../../common/validation.js';
import { recordAudit } from '../audit/audit-record.js';
import { TIERS } from '../organizations/organization.entity.js';
import { WINDOW_MS } from './policies.js';
import { PolicyStore } from './policy-store.js';
import { type PolicySet, RateLimitSetting } from './rate-limit-setting.entity.js';
import type { RateLimitsResponse, UpdateRateLimitsDto } from './rate-limits.dto.js';

const platformAdminOnly = err(
  'PERMISSION_DENIED',
  'Only platform administrators change global and tier limits',
);
const ROUTE = /^\/api\/v\d+\/[A-Za-z0-9_\-/:{}.]*$/;

/** Validates a `{window: {limit, algorithm?}}` object; collects errors under `field`. */
function policySet(value: unknown, field: string, errors: FieldError[]): PolicySet {
  const set: PolicySet = {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    errors.push({ field, message: `${field} must be an object of window -> {limit, algorithm}` });
    return set;
  }
  for (const [window, policy] of Object.entries(value as Record<string, unknown>)) {
    const at = `${field}.${window}`;
    if (!(window in WINDOW_MS)) {
      errors.push({ field: at, message: 'window must be second, minute, hour or day' });
      continue;
    }
    const {
      limit,
      algorithm = 'sliding_window',
      ...rest
    } = (policy ?? {}) as Record<string, unknown>;
    if (!Number.isInteger(limit) || (limit as number) < 1 || (limit as number) > 1_000_000_000) {
      errors.push({
        field: `${at}.limit`,
        message: 'limit must be a whole number from 1 to 1000000000',
      });
    }
    if (algorithm !== 'sliding_window' && algorithm !== 'token_bucket') {
      errors.push({
        field: `${at}.algorithm`,
        message: 'algorithm must be sliding_window or token_bucket',
      });
    }
    if (Object.keys(rest).length > 0)
      errors.push({ field: at, message: `unknown fields: ${Object.keys(rest).join(', ')}` });
    set[window as keyof PolicySet] = {
      limit: limit as number,
      algorithm: algorithm as 'sliding_window' | 'token_bucket',
    };
  }
  return set;
}

@Injectable()
export class RateLimitsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly store: PolicyStore,
  ) {}

  get(ctx: AuthenticatedContext): RateLimitsResponse {
    const snapshot = this.store.snapshot;
    return {
      global: snapshot.global,
      tiers: snapshot.tiers,
      endpoints: snapshot.endpoints.get(ctx.principal.organizationId) ?? {},
    };
  }

  async update(ctx: AuthenticatedContext, dto: UpdateRateLimitsDto): Promise<RateLimitsResponse> {
    rejectNulls(dto, ['global', 'tiers', 'endpoints']);
    const isPlatformAdmin = ctx.principal.type === 'user' && ctx.principal.isPlatformAdmin;
    if ((dto.global !== undefined || dto.tiers !== undefined) && !isPlatformAdmin)
      throw platformAdminOnly();
    const errors: FieldError[] = [];
    const rows: { scope: string; organizationId: string | null; policies: object }[] = [];
    if (dto.global !== undefined)
      rows.push({
        scope: 'global',
        organizationId: null,
        policies: policySet(dto.global, 'global', errors),
      });
    for (const [tier, set] of Object.entries(dto.tiers ?? {})) {
      if (!(TIERS as readonly string[]).includes(tier))
        errors.push({ field: `tiers.${tier}`, message: `tier must be one of ${TIERS.join(', ')}` });
      else
        rows.push({
          scope: `tier:${tier}`,
          organizationId: null,
          policies: policySet(set, `tiers.${tier}`, errors),
        });
    }
    if (dto.endpoints !== undefined) {
      const endpoints: Record<string, PolicySet> = {};
      for (const [route, set] of Object.entries(dto.endpoints)) {
        if (!ROUTE.test(route))
          errors.push({
            field: `endpoints.${route}`,
            message: 'must be a route such as /api/v1/users',
          });
        else endpoints[route] = policySet(set, `endpoints.${route}`, errors);
      }
      const { organizationId } = tenantOf(ctx);
      rows.push({ scope: `org:${organizationId}`, organizationId, policies: endpoints });
    }
    if (errors.length > 0) throw CommonErrors.validation(errors);

    await this.dataSource.transaction(async (manager) => {
      for (const row of rows) await manager.upsert(RateLimitSetting, row, ['scope']);
      await recordAudit(manager, ctx, {
        action: 'rate_limits.updated',
        organizationId: ctx.principal.organizationId,
        target: { type: 'rate_limits', id: rows.map((row) => row.scope).join(',') },
        changes: Object.fromEntries(rows.map((row) => [row.scope, row.policies])),
      });
    });
    await this.store.changed();
    return this.get(ctx);
  }
}
