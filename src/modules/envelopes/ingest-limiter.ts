import { Injectable, Logger } from '@nestjs/common';
import { RateLimitConfig } from '../../config/config.classes.js';
import type { IngestProject } from '../projects/ingest-projects.js';
import { INGEST_WINDOW_MS } from '../projects/ingest-rate-limit.js';
import { Limiter } from '../rate-limit/limiter.js';
import { admitUncounted } from '../rate-limit/limiter-unavailable.js';
import { EnvelopeIngestErrors } from './envelopes.errors.js';
import { retryAfterSeconds } from '../../common/retry-after.js';

/**
 * Sentry's rate-limit header (https://develop.sentry.dev/sdk/expected-features/rate-limiting/):
 * `<retry_after>:<categories>:<scope>:<reason_code>`; no categories means all of them, so the
 * SDK holds back every kind of item for this project until then.
 */
export function sentryRateLimitsHeader(retryAfterSeconds: number): string {
  return `${retryAfterSeconds}::project:project_quota`;
}

/**
 * A project's ingest_rate_limit, decided by the same limiter script as API keys: a sliding
 * window per project, under the organization's hash tag (one slot per organization on Redis
 * Cluster, like its keys' counters). When Redis is unavailable, RATE_LIMIT_FAILURE_MODE says
 * whether envelopes are admitted (open) or refused with a 503 (closed).
 */
@Injectable()
export class IngestLimiter {
  private readonly logger = new Logger('IngestLimiter');

  constructor(
    private readonly limiter: Limiter,
    private readonly config: RateLimitConfig,
  ) {}

  /** Counts one envelope, or throws the 429 (Retry-After, X-Sentry-Rate-Limits). */
  async admit(project: IngestProject): Promise<void> {
    const { window, limit } = project.ingestRateLimit;
    const windowMs = INGEST_WINDOW_MS[window];
    let result;
    try {
      result = await this.limiter.check({
        tag: project.organizationId,
        subject: `project:${project.id}`,
        windows: [{ name: `ingest:${windowMs}`, algorithm: 'sliding_window', windowMs, limit }],
        cost: 1,
      });
    } catch (error) {
      admitUncounted(this.config, this.logger, error, 'the envelope');
      return;
    }
    if (result.outcome === 'admitted') return;
    const nowMs = Date.now();
    const resetMs = result.windows[0]?.resetMs ?? nowMs + windowMs;
    const retryAfter = retryAfterSeconds(resetMs, nowMs);
    throw EnvelopeIngestErrors.overLimit(
      {
        limit,
        current: limit,
        window: windowMs / 1000,
        reset_at: new Date(nowMs + retryAfter * 1000).toISOString(),
      },
      {
        'Retry-After': String(retryAfter),
        'X-Sentry-Rate-Limits': sentryRateLimitsHeader(retryAfter),
      },
    );
  }
}
