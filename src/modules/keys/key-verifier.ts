import { Injectable } from '@nestjs/common';
import { allows } from '../../common/permissions.js';
import type { AuthenticatedContext } from '../../common/request-context.js';
import { RequestLimiter, tightestQuota } from '../rate-limit/request-limiter.js';
import { ApiKeyAuthenticator, principalOf } from './api-key-authenticator.js';
import type { VerifyKeyDto, VerifyKeyResponse } from './keys.dto.js';

/**
 * POST /keys/verify: lets a customer protect its own API with keys and limits managed here.
 * Always a 200; a key that would be refused says why in `code`. A verification that passes
 * every other check counts against the key's limits (and is refused, consuming nothing,
 * when a window is full). Keys of other organizations are unknown keys.
 */
@Injectable()
export class KeyVerifier {
  constructor(
    private readonly keys: ApiKeyAuthenticator,
    private readonly limits: RequestLimiter,
  ) {}

  async verify(ctx: AuthenticatedContext, dto: VerifyKeyDto): Promise<VerifyKeyResponse> {
    const key = await this.keys.lookup(dto.key);
    if (key === null || key.organizationId !== ctx.principal.organizationId) {
      return {
        valid: false,
        code: 'API_KEY_INVALID',
        key_id: null,
        organization_id: null,
        permissions: [],
        ratelimit: null,
        quota: null,
      };
    }
    const base = {
      key_id: key.id,
      organization_id: key.organizationId,
      permissions: [...key.permissions],
    };
    const refused = (code: string): VerifyKeyResponse => ({
      valid: false,
      code,
      ...base,
      ratelimit: null,
      quota: null,
    });
    if (key.isRevoked) return refused('API_KEY_REVOKED');
    if (key.expiresAtMs !== null && key.expiresAtMs <= Date.now())
      return refused('API_KEY_EXPIRED');
    if (!(dto.permissions ?? []).every((permission) => allows(key.permissions, permission))) {
      return refused('PERMISSION_DENIED');
    }

    // The verified key's own windows and quotas (no endpoint: the call is the customer's).
    const admission = await this.limits.admit(principalOf(key), {
      route: '',
      cost: dto.cost ?? 1,
    });
    if (admission === null) return { valid: true, ...base, ratelimit: null, quota: null };
    const { result, windows } = admission;
    const deciding = windows[result.deciding];
    const state = result.windows[result.deciding];
    const ratelimit =
      deciding === undefined || state === undefined
        ? null
        : {
            limit: deciding.limit,
            remaining: state.remaining,
            reset: Math.ceil(state.resetMs / 1000),
          };
    const tightest = tightestQuota(admission);
    const quota =
      tightest === undefined
        ? null
        : {
            quota_id: tightest.applied.quota.id,
            limit: tightest.applied.quota.maxRequests,
            used: tightest.state.used,
            remaining: tightest.state.remaining,
            resets_at: new Date(tightest.applied.period.endMs).toISOString(),
          };
    const codes = {
      admitted: undefined,
      rate_limited: 'RATE_LIMIT_EXCEEDED',
      over_quota: 'QUOTA_EXCEEDED',
      revoked: 'API_KEY_REVOKED',
    };
    const code = codes[result.outcome];
    return {
      valid: code === undefined,
      ...(code === undefined ? {} : { code }),
      ...base,
      ratelimit,
      quota,
    };
  }
}
