import type { IngestRateLimit, IngestWindow } from './project.entity.js';

export const INGEST_WINDOWS = ['second', 'minute', 'hour', 'day'] as const satisfies IngestWindow[];

/** The largest `limit` a project may set (the limiter counts in buckets above 10,000). */
export const INGEST_LIMIT_MAX = 1_000_000;

/**
 * A project that set none: 1,000 envelopes in any rolling minute. Enough for a busy service's
 * errors (SDKs also sample and deduplicate), small enough that one project's error storm does
 * not take the ingestion of others with it.
 */
export const DEFAULT_INGEST_RATE_LIMIT: Readonly<IngestRateLimit> = Object.freeze({
  window: 'minute',
  limit: 1_000,
});

export const INGEST_WINDOW_MS: Record<IngestWindow, number> = {
  second: 1_000,
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
};

/** The limit that applies to a project: its own, else the default. */
export function effectiveIngestRateLimit(own: IngestRateLimit | null): IngestRateLimit {
  return own ?? DEFAULT_INGEST_RATE_LIMIT;
}
