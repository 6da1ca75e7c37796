import { Injectable } from '@nestjs/common';
import { allows } from '../../common/permissions.js';
import type { AuthenticatedContext } from '../../common/request-context.js';
import { Limiter } from '../rate-limit/limiter.js';
import { windowsFor } from '../rate-limit/policies.js';
import { PolicyStore } from '../rate-limit/policy-store.js';
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
    private readonly limiter: Limiter,
    private readonly policies: PolicyStore,
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

    const principal = principalOf(key);
    const windows = windowsFor(principal, '', this.policies.snapshot);
    const result = await this.limiter.check({ subject: key.id, windows, cost: dto.cost ?? 1 });
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
      quota: result.quota,
    };
  }
}
