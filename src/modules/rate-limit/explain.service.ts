import { Injectable } from '@nestjs/common';
import { CommonErrors } from '../../common/app-error.js';
import { allows, type Permission, ROLE_PERMISSIONS } from '../../common/permissions.js';
import type { ApiKeyPrincipal, Principal, UserPrincipal } from '../../common/principal.js';
import type { AuthenticatedContext } from '../../common/request-context.js';
import { AuthErrors } from '../auth/auth.errors.js';
import { KeysService } from '../keys/keys.service.js';
import { UsersService } from '../users/users.service.js';
import type { ExplainQuery, ExplainResponse, ExplainedPolicy } from './explain.dto.js';
import { type Admission, RequestLimiter } from './request-limiter.js';

/** GET /rate-limits/explain: every counter that applies to a credential, read without consuming. */
@Injectable()
export class ExplainService {
  constructor(
    private readonly limits: RequestLimiter,
    private readonly keys: KeysService,
    private readonly users: UsersService,
  ) {}

  async explain(ctx: AuthenticatedContext, query: ExplainQuery): Promise<ExplainResponse> {
    if (query.api_key_id !== undefined && query.user_id !== undefined) {
      throw CommonErrors.validation([
        { field: 'api_key_id', message: 'give api_key_id or user_id, not both' },
      ]);
    }
    const principal = await this.subject(ctx, query);
    return toResponse(await this.limits.peek(principal, query.endpoint ?? ''));
  }

  /** The credential to explain: a key or a user of the caller's organization, or the caller. */
  private async subject(ctx: AuthenticatedContext, query: ExplainQuery): Promise<Principal> {
    const caller = ctx.principal;
    if (query.api_key_id !== undefined) {
      if (!allows(caller.permissions, 'keys:read')) throw AuthErrors.permissionDenied('keys:read');
      const key = await this.keys.get(ctx, query.api_key_id);
      const principal: ApiKeyPrincipal = {
        type: 'api_key',
        keyId: key.id,
        name: key.name,
        organizationId: key.organization_id,
        projectId: key.project_id,
        environment: key.environment,
        permissions: new Set(key.permissions as Permission[]),
        rateLimits: key.rate_limits.map((limit) => ({
          window: limit.window,
          limit: limit.limit,
          algorithm: limit.algorithm ?? 'sliding_window',
        })),
      };
      return principal;
    }
    if (query.user_id !== undefined) {
      if (!allows(caller.permissions, 'users:read'))
        throw AuthErrors.permissionDenied('users:read');
      const user = await this.users.get(ctx, query.user_id);
      const principal: UserPrincipal = {
        type: 'user',
        userId: user.id,
        organizationId: caller.organizationId,
        role: user.role,
        permissions: ROLE_PERMISSIONS[user.role],
        isPlatformAdmin: user.is_platform_admin,
      };
      return principal;
    }
    return caller;
  }
}

function toResponse({ plan, windows, quotas, result, nowMs }: Admission): ExplainResponse {
  // A window another one counts for (same requests, same length) has used what that one has.
  const policies: ExplainedPolicy[] = plan.all.map((window, i) => {
    const countedBy = plan.countedBy[i] ?? i;
    const counter = windows[countedBy];
    const state = result.windows[countedBy];
    const used = counter === undefined || state === undefined ? 0 : counter.limit - state.remaining;
    return {
      source: window.source,
      window: window.window,
      algorithm: window.algorithm,
      limit: window.limit,
      remaining: Math.max(window.limit - used, 0),
      reset_at: new Date(state?.resetMs ?? nowMs).toISOString(),
    };
  });
  quotas.forEach(({ quota, period }, j) => {
    const state = result.quotas[j];
    policies.push({
      source: 'quota',
      window: quota.period,
      algorithm: 'quota',
      limit: quota.maxRequests,
      remaining: state?.remaining ?? quota.maxRequests,
      reset_at: new Date(period.endMs).toISOString(),
      quota_id: quota.id,
    });
  });
  let deciding: ExplainedPolicy | null = null;
  if (result.outcome === 'rate_limited')
    deciding = policies[plan.all.indexOf(windows[result.deciding])] ?? null;
  else if (result.outcome === 'over_quota')
    deciding = policies[plan.all.length + result.decidingQuota] ?? null;
  else {
    for (const policy of policies) {
      if (
        deciding === null ||
        policy.remaining / policy.limit < deciding.remaining / deciding.limit
      )
        deciding = policy;
    }
  }
  return { policies, deciding, next_request: result.outcome };
}
