import { createHash } from 'node:crypto';
import { type ExecutionContext, Injectable } from '@nestjs/common';
import {
  InjectThrottlerStorage,
  ThrottlerGuard,
  type ThrottlerLimitDetail,
  type ThrottlerModuleOptions,
  ThrottlerStorage,
} from '@nestjs/throttler';
import type { FastifyRequest } from 'fastify';
import { AppError } from '../../common/app-error.js';
import { AuthConfig } from '../../config/config.classes.js';

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

function tooMany(retryAfter: number, detail: { limit: number; totalHits: number; ttl: number }) {
  return new AppError(
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

/**
 * Password checks outside login (PATCH /auth/me's current_password) count as login attempts:
 * the same counters as POST /auth/login (per client IP, and per account under both its
 * username and its email, the names a login may use), so a stolen access token is no way
 * around the login throttle. The keys are the ones ThrottlerGuard builds for the login route.
 */
@Injectable()
export class LoginAttempts {
  constructor(
    @InjectThrottlerStorage() private readonly storage: ThrottlerStorage,
    private readonly config: AuthConfig,
  ) {}

  /**
   * Counts one attempt; 429 RATE_LIMIT_EXCEEDED (with Retry-After) once a window is full.
   * `ip` is null only outside a request (a system context), which has no address to count.
   */
  async count(ip: string | null, accountNames: string[]): Promise<void> {
    const windows = [
      ...(ip === null ? [] : [{ name: 'ip', tracker: ip, limit: this.config.throttlePerIp }]),
      ...[...new Set(accountNames.map((name) => name.trim().toLowerCase()))].map((tracker) => ({
        name: 'account',
        tracker,
        limit: this.config.throttlePerAccount,
      })),
    ];
    const results = await Promise.all(
      windows.map(async (window) => ({
        window,
        record: await this.storage.increment(
          createHash('sha256')
            .update(`AuthController-login-${window.name}-${window.tracker}`)
            .digest('hex'),
          MINUTE_MS,
          window.limit,
          0,
          window.name,
        ),
      })),
    );
    const blocked = results.find(({ record }) => record.isBlocked);
    if (blocked !== undefined) {
      throw tooMany(Math.max(blocked.record.timeToBlockExpire, 1), {
        limit: blocked.window.limit,
        totalHits: blocked.record.totalHits,
        ttl: MINUTE_MS,
      });
    }
  }
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
    throw tooMany(Math.max(detail.timeToBlockExpire, 1), detail);
  }
}
