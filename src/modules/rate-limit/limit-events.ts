/** One refused request, as analytics reads it (GET /analytics/rate-limits). */
export interface RateLimitEvent {
  organization_id: string;
  api_key_id: string | null;
  user_id: string | null;
  method: string;
  endpoint: string;
  /** The window (second, minute, hour, day) or `quota`. */
  limit_type: string;
  /** Which policy refused: key, endpoint, tier, global or quota. */
  limit_source: string;
  limit_value: number;
  current_usage: number;
  request_id: string | null;
  occurred_at: string;
}

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

export interface LimitEventBatch {
  rateLimitEvents: RateLimitEvent[];
  quotaEvents: QuotaEvent[];
}
