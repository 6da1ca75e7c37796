import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../common/app-error.js';
import { routeAccess } from '../../common/route-access.js';
import { KeyErrors } from '../keys/keys.errors.js';
import {
  type Admission,
  type LimitRefusal,
  RequestLimiter,
  refusalOf,
  tightestQuota,
} from './request-limiter.js';
import { retryAfterSeconds } from '../../common/retry-after.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The limit that refused this request (a 429), for its usage record. */
    limitRefusal?: LimitRefusal;
  }
}

/** X-RateLimit-* for the deciding window, and the IETF RateLimit-Policy / RateLimit fields. */
export function rateLimitHeaders({
  plan,
  windows,
  result,
  nowMs,
}: Admission): Record<string, string> {
  const deciding = windows[result.deciding];
  const state = result.windows[result.deciding];
  if (deciding === undefined || state === undefined) return {};
  const resetSeconds = Math.max(Math.ceil((state.resetMs - nowMs) / 1000), 0);
  return {
    'X-RateLimit-Limit': String(deciding.limit),
    'X-RateLimit-Remaining': String(state.remaining),
    'X-RateLimit-Reset': String(Math.ceil(state.resetMs / 1000)),
    'X-RateLimit-Window': String(deciding.windowMs / 1000),
    'RateLimit-Policy': plan.policyHeader,
    RateLimit: `"${deciding.source}-${deciding.window}";r=${state.remaining};t=${resetSeconds}`,
  };
}

/** Adds X-Quota-* for the quota with the least left (only when quotas apply). */
function addQuotaHeaders(headers: Record<string, string>, admission: Admission): void {
  const tightest = tightestQuota(admission);
  if (tightest === undefined) return;
  headers['X-Quota-Limit'] = String(tightest.applied.quota.maxRequests);
  headers['X-Quota-Remaining'] = String(tightest.state.remaining);
  headers['X-Quota-Reset'] = String(Math.ceil(tightest.applied.period.endMs / 1000));
}

/**
 * Second in the guard chain: one EVALSHA decides every window and quota that applies to the
 * caller and checks the key's revocation marker. Answers 429 with Retry-After when a window
 * or a quota is full, noting on the request which limit refused it (its usage record carries
 * it to usage_logs); adds the rate-limit headers to every limited response.
 */
@Injectable()
export class RateLimitGuard implements CanActivate {
  constructor(
    private readonly limits: RequestLimiter,
    private readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const principal = request.principal;
    if (principal === undefined) return true;
    if (
      principal.type === 'user' &&
      principal.isPlatformAdmin &&
      routeAccess(this.reflector, context).platformManagement
    )
      return true;

    const admission = await this.limits.admit(principal, {
      route: request.routeOptions.url ?? request.url,
      cost: 1,
    });
    if (admission === null) return true;
    // A key re-read because its organization's limits changed: its current permissions count.
    request.principal = admission.principal;
    const { result, windows, nowMs } = admission;
    if (result.outcome === 'revoked') throw KeyErrors.revoked();

    const headers = rateLimitHeaders(admission);
    addQuotaHeaders(headers, admission);
    void http.getResponse<FastifyReply>().headers(headers);
    request.limitRefusal = refusalOf(admission) ?? undefined;
    if (result.outcome === 'rate_limited') {
      const window = windows[result.deciding];
      const state = result.windows[result.deciding];
      const resetMs = state?.resetMs ?? nowMs;
      throw new AppError(
        'RATE_LIMIT_EXCEEDED',
        `Rate limit of ${window?.limit} per ${(window?.windowMs ?? 0) / 1000} s exceeded`,
        {
          limit: window?.limit,
          current:
            window === undefined || state === undefined
              ? undefined
              : window.limit - state.remaining,
          window: (window?.windowMs ?? 0) / 1000,
          reset_at: new Date(resetMs).toISOString(),
        },
        { ...headers, 'Retry-After': String(retryAfterSeconds(resetMs, nowMs)) },
      );
    }
    if (result.outcome === 'over_quota') {
      const applied = admission.quotas[result.decidingQuota];
      const state = result.quotas[result.decidingQuota];
      const resetMs = applied?.period.endMs ?? nowMs;
      throw new AppError(
        'QUOTA_EXCEEDED',
        `Quota of ${applied?.quota.maxRequests} requests for this ${applied?.quota.period} period exhausted`,
        {
          quota_id: applied?.quota.id,
          limit: applied?.quota.maxRequests,
          used: state?.used,
          period: applied?.quota.period,
          resets_at: new Date(resetMs).toISOString(),
        },
        { ...headers, 'Retry-After': String(retryAfterSeconds(resetMs, nowMs)) },
      );
    }
    return true;
  }
}
