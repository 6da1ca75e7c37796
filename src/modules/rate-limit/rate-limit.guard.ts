import { type CanActivate, type ExecutionContext, Injectable, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError, CommonErrors } from '../../common/app-error.js';
import { RateLimitConfig } from '../../config/config.classes.js';
import { KeyErrors } from '../keys/keys.errors.js';
import { type LimiterResult, Limiter, type WindowPolicy } from './limiter.js';
import { subjectOf, windowsFor } from './policies.js';
import { PolicyStore } from './policy-store.js';

/** A limiter that has not answered by then is treated as down (RATE_LIMIT_FAILURE_MODE). */
const LIMITER_TIMEOUT_MS = 250;

function policyName(window: WindowPolicy): string {
  return window.name.split(':').slice(0, 2).join('-');
}

/** X-RateLimit-* for the deciding window, and the IETF RateLimit-Policy / RateLimit fields. */
export function rateLimitHeaders(
  windows: WindowPolicy[],
  result: LimiterResult,
  nowMs: number,
): Record<string, string> {
  const deciding = windows[result.deciding];
  const state = result.windows[result.deciding];
  if (deciding === undefined || state === undefined) return {};
  const resetSeconds = Math.max(Math.ceil((state.resetMs - nowMs) / 1000), 0);
  return {
    'X-RateLimit-Limit': String(deciding.limit),
    'X-RateLimit-Remaining': String(state.remaining),
    'X-RateLimit-Reset': String(Math.ceil(state.resetMs / 1000)),
    'X-RateLimit-Window': String(deciding.windowMs / 1000),
    'RateLimit-Policy': windows
      .map((w) => `"${policyName(w)}";q=${w.limit};w=${w.windowMs / 1000}`)
      .join(', '),
    RateLimit: `"${policyName(deciding)}";r=${state.remaining};t=${resetSeconds}`,
  };
}

/**
 * Second in the guard chain: one EVALSHA decides every window that applies to the caller
 * and checks the key's revocation marker. Answers 429 with Retry-After when a window is
 * full; adds the rate-limit headers to every limited response.
 */
@Injectable()
export class RateLimitGuard implements CanActivate {
  private readonly logger = new Logger('RateLimit');

  constructor(
    private readonly limiter: Limiter,
    private readonly config: RateLimitConfig,
    private readonly policies: PolicyStore,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const principal = request.principal;
    if (principal === undefined) return true;

    const windows = windowsFor(
      principal,
      request.routeOptions.url ?? request.url,
      this.policies.snapshot,
    );
    const result = await this.decide(subjectOf(principal), windows);
    if (result === null) return true;
    if (result.outcome === 'revoked') throw KeyErrors.revoked();

    const now = Date.now();
    const headers = rateLimitHeaders(windows, result, now);
    void http.getResponse<FastifyReply>().headers(headers);
    if (result.outcome === 'rate_limited') {
      const window = windows[result.deciding];
      const state = result.windows[result.deciding];
      const retryAfter = Math.max(Math.ceil(((state?.resetMs ?? now) - now) / 1000), 1);
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
          reset_at: new Date(state?.resetMs ?? now).toISOString(),
        },
        { ...headers, 'Retry-After': String(retryAfter) },
      );
    }
    return true;
  }

  /** The limiter's answer, or null to admit when Redis is down and the mode is `open`. */
  private async decide(subject: string, windows: WindowPolicy[]): Promise<LimiterResult | null> {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        this.limiter.check({ subject, windows, cost: 1 }),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error('limiter timed out')), LIMITER_TIMEOUT_MS);
        }),
      ]);
    } catch (error) {
      if (this.config.failureMode === 'closed') {
        throw CommonErrors.unavailable('Rate limiting is unavailable; retry shortly');
      }
      this.logger.warn({
        msg: 'limiter unavailable; admitting (RATE_LIMIT_FAILURE_MODE=open)',
        error: String(error),
      });
      return null;
    } finally {
      clearTimeout(timer);
    }
  }
}
