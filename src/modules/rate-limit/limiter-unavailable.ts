import type { Logger } from '@nestjs/common';
import { CommonErrors } from '../../common/app-error.js';
import type { RateLimitConfig } from '../../config/config.classes.js';

/**
 * What a limiter call that failed (Redis down, or slower than RATE_LIMIT_TIMEOUT_MS) means for
 * the request: with RATE_LIMIT_FAILURE_MODE `closed` a 503 (thrown); with `open` it is admitted
 * uncounted, and the failure logged. `what` names what is admitted (a request, an envelope).
 */
export function admitUncounted(
  config: RateLimitConfig,
  logger: Logger,
  error: unknown,
  what: string,
): void {
  if (config.failureMode === 'closed') {
    throw CommonErrors.unavailable('Rate limiting is unavailable; retry shortly');
  }
  logger.warn({
    msg: `limiter unavailable; admitting ${what} (RATE_LIMIT_FAILURE_MODE=open)`,
    error: String(error),
  });
}
