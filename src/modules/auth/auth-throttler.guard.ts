import { type ExecutionContext, Injectable } from '@nestjs/common';
import {
  ThrottlerGuard,
  type ThrottlerLimitDetail,
  type ThrottlerModuleOptions,
} from '@nestjs/throttler';
import type { FastifyRequest } from 'fastify';
import { AppError } from '../../common/app-error.js';
import type { AuthConfig } from '../../config/config.classes.js';

const MINUTE_MS = 60_000;

/** The account a login or register attempt is for, so one account's limit spans every IP. */
function accountOf(request: FastifyRequest): string {
  const body = (request.body ?? {}) as Record<string, unknown>;
  const login = body.login ?? body.email ?? body.username;
  return typeof login === 'string' ? login.trim().toLowerCase() : `ip:${request.ip}`;
}

/** Two windows per route: per client IP, and per account named in the body. */
export function authThrottlerOptions(config: AuthConfig): ThrottlerModuleOptions {
  return {
    setHeaders: false,
    throttlers: [
      {
        name: 'ip',
        ttl: MINUTE_MS,
        limit: config.throttlePerIp,
        getTracker: (req) => (req as FastifyRequest).ip,
      },
      {
        name: 'account',
        ttl: MINUTE_MS,
        limit: config.throttlePerAccount,
        getTracker: (req) => accountOf(req as FastifyRequest),
      },
    ],
  };
}

/**
 * @nestjs/throttler for the unauthenticated auth routes only (login, register); API-key and
 * user traffic is limited by the rate-limit guard. Answers 429 in the contract's format.
 */
@Injectable()
export class AuthThrottlerGuard extends ThrottlerGuard {
  protected override throwThrottlingException(
    _context: ExecutionContext,
    detail: ThrottlerLimitDetail,
  ): Promise<void> {
    const retryAfter = Math.max(detail.timeToBlockExpire, 1);
    throw new AppError(
      'RATE_LIMIT_EXCEEDED',
      `Too many attempts; retry in ${retryAfter} s`,
      {
        limit: detail.limit,
        current: detail.totalHits,
        window: detail.ttl / 1000,
        reset_at: new Date(Date.now() + retryAfter * 1000).toISOString(),
      },
      { 'Retry-After': String(retryAfter) },
    );
  }
}
