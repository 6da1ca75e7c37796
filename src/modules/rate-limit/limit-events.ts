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
 * A `limit-events.record` job's payload. (Jobs enqueued before refusals moved to the usage
 * log also carry `rateLimitEvents`; the writer ignores them.)
 */
export interface LimitEventBatch {
  quotaEvents: QuotaEvent[];
}
