/**
 * rate_limit_events, written by the worker. One row counts the refusals of one credential by
 * one window (limit_source, limit_type) in one minute: a batch ($1, a JSON array of
 * RateLimitEvent) is merged by that key in SQL, then added to the row already there, so the
 * table grows with credentials x windows x minutes refused, not with refused requests.
 * limit_value, method, endpoint and request_id are the latest refusal's; current_usage the
 * highest seen. Rows are sorted by key so concurrent batches lock rows in one order.
 */
export const MERGE_REFUSALS = `
  INSERT INTO rate_limit_events AS t (organization_id, api_key_id, user_id, credential_id,
    limit_source, limit_type, minute, refusals, limit_value, current_usage, method, endpoint,
    request_id, first_at, last_at)
  SELECT organization_id, api_key_id, user_id, coalesce(api_key_id, user_id), limit_source,
    limit_type, date_trunc('minute', occurred_at) AS minute, count(*),
    (array_agg(limit_value ORDER BY occurred_at DESC))[1], max(current_usage),
    (array_agg(method ORDER BY occurred_at DESC))[1],
    (array_agg(endpoint ORDER BY occurred_at DESC))[1],
    (array_agg(request_id ORDER BY occurred_at DESC))[1], min(occurred_at), max(occurred_at)
  FROM jsonb_to_recordset($1::jsonb) AS e(organization_id uuid, api_key_id uuid, user_id uuid,
    method text, endpoint text, limit_type text, limit_source text, limit_value bigint,
    current_usage bigint, request_id text, occurred_at timestamptz)
  WHERE coalesce(api_key_id, user_id) IS NOT NULL
  GROUP BY organization_id, api_key_id, user_id, limit_source, limit_type, minute
  ORDER BY organization_id, coalesce(api_key_id, user_id), limit_source, limit_type, minute
  ON CONFLICT (organization_id, credential_id, limit_source, limit_type, minute) DO UPDATE SET
    refusals = t.refusals + excluded.refusals,
    current_usage = greatest(t.current_usage, excluded.current_usage),
    limit_value = CASE WHEN excluded.last_at >= t.last_at THEN excluded.limit_value ELSE t.limit_value END,
    method = CASE WHEN excluded.last_at >= t.last_at THEN excluded.method ELSE t.method END,
    endpoint = CASE WHEN excluded.last_at >= t.last_at THEN excluded.endpoint ELSE t.endpoint END,
    request_id = CASE WHEN excluded.last_at >= t.last_at THEN excluded.request_id ELSE t.request_id END,
    first_at = least(t.first_at, excluded.first_at),
    last_at = greatest(t.last_at, excluded.last_at)`;
