/** A quota crossing its warning threshold, or refusing for the first time in its period. */
export interface QuotaEvent {
  organization_id: string;
  type: 'quota.warning' | 'quota.exceeded';
  payload: {
    quota_id: string;
    api_key_id: string | null;
    period: string;
    max_requests: number;
    used: number;
    period_start: string;
    resets_at: string;
    occurred_at: string;
  };
}

/**
 * A key's window refusing for the first time in that window (`rate_limit.exceeded`): one per
 * key, window and window start, however many requests it refuses.
 */
export interface RateLimitExceededEvent {
  organization_id: string;
  type: 'rate_limit.exceeded';
  payload: {
    api_key_id: string;
    limit_type: string;
    limit_value: number;
    current_usage: number;
    window_start: string;
    resets_at: string;
    occurred_at: string;
  };
}

/**
 * A `limit-events.record` job's payload. (Jobs enqueued before refusals moved to the usage
 * log also carry `rateLimitEvents`; the writer ignores them.)
 */
export interface LimitEventBatch {
  quotaEvents: QuotaEvent[];
  /** Absent in jobs enqueued before rate_limit.exceeded existed. */
  windowEvents?: RateLimitExceededEvent[];
}
