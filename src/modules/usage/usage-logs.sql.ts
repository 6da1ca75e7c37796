import { HISTOGRAM_BUCKET_SQL, HISTOGRAM_COLUMNS } from './latency-histogram.js';

/** A rollup row's key: the conflict target, and the order rows are upserted in. */
const ROLLUP_KEY =
  'organization_id, bucket, api_key_id, user_id, project_id, method, route, api_version, status';

const HISTOGRAM = HISTOGRAM_COLUMNS.join(', ');

/** Measures of a coarser rollup from a finer one's rows. */
const ROLLUP_SUMS = `sum(requests) AS requests, sum(rate_limited) AS rate_limited,
  sum(quota_exceeded) AS quota_exceeded, sum(response_time_sum_ms) AS response_time_sum_ms,
  max(response_time_max_ms) AS response_time_max_ms,
  ${HISTOGRAM_COLUMNS.map((column) => `sum(${column}) AS ${column}`).join(', ')}`;

/** The narrow rollups' keys (migrations/1764600000000-AddNarrowUsageRollups.ts). */
const ORGANIZATION_KEY = 'organization_id, bucket, status';
const KEY_KEY = 'organization_id, api_key_id, bucket, status';

/** `<rows>` (a CTE) added into usage_rollups_<table> as `<table>_upserted`, in key order. */
const upsert = (table: string, rows: string, key: string) => `
  ${table}_upserted AS (
    INSERT INTO usage_rollups_${table} AS t (${key}, requests, rate_limited,
      quota_exceeded, response_time_sum_ms, response_time_max_ms, ${HISTOGRAM})
    SELECT ${key}, requests, rate_limited, quota_exceeded, response_time_sum_ms,
      response_time_max_ms, ${HISTOGRAM}
    FROM ${rows}
    ORDER BY ${key}
    ON CONFLICT (${key}) DO UPDATE SET
      requests = t.requests + excluded.requests,
      rate_limited = t.rate_limited + excluded.rate_limited,
      quota_exceeded = t.quota_exceeded + excluded.quota_exceeded,
      response_time_sum_ms = t.response_time_sum_ms + excluded.response_time_sum_ms,
      response_time_max_ms = greatest(t.response_time_max_ms, excluded.response_time_max_ms),
      ${HISTOGRAM_COLUMNS.map((column) => `${column} = t.${column} + excluded.${column}`).join(',\n      ')}
    RETURNING 1
  )`;

/** Dimensions of a rollup row, with its bucket truncated to `unit` (UTC). */
const dimensions = (unit: string, column: string) =>
  `date_trunc('${unit}', ${column}, 'UTC') AS bucket, organization_id, api_key_id, user_id,
   project_id, method, route, api_version, status`;

/**
 * usage_logs ingestion, run by the worker. $1: a JSON array of UsageRecord (one job's batch).
 * One statement inserts the whole batch; a row already there (the same record, from a batch
 * delivered again) is skipped by the primary key (created_at, id), and `inserted` holds only
 * the rows this statement wrote, so whatever is derived from it counts each request once.
 *
 * The rollups (migrations/1764500000000-AddUsageRollups.ts) are derived from `inserted` in
 * the same statement: its rows grouped per minute, those per hour, those per day, each added
 * into its table (ON CONFLICT DO UPDATE: counts and sums added, maxima kept, histograms
 * added element-wise). Two workers adding to the same rollup row serialize on it and both
 * counts stay; rows are upserted in key order, and the tables always in the order minute,
 * hour, day, org_hour, org_day, key_hour, key_day, so two batches never wait on each other in a cycle (no deadlock).
 * Returns one row: `inserted`, how many rows were new.
 */
export const INSERT_USAGE_LOGS = `
  WITH inserted AS (
    INSERT INTO usage_logs (id, created_at, organization_id, api_key_id, user_id, project_id,
      method, path, route, status, response_time_ms, request_bytes, response_bytes, ip,
      user_agent, api_version, error_code, request_id, limit_type, limit_value, current_usage)
    SELECT id, created_at, organization_id, api_key_id, user_id, project_id, method, path, route,
      status, response_time_ms, request_bytes, response_bytes, ip, user_agent, api_version,
      error_code, request_id, limit_type, limit_value, current_usage
    FROM jsonb_to_recordset($1::jsonb) AS r(id uuid, created_at timestamptz,
      organization_id uuid, api_key_id uuid, user_id uuid, project_id integer, method text,
      path text, route text, status smallint, response_time_ms real, request_bytes integer,
      response_bytes integer, ip text, user_agent text, api_version text, error_code text,
      request_id text, limit_type text, limit_value bigint, current_usage bigint)
    ON CONFLICT (created_at, id) DO NOTHING
    RETURNING created_at, organization_id, api_key_id, user_id, project_id, method, route,
      api_version, status, response_time_ms, error_code
  ),
  -- each new row with the histogram bucket of its latency
  facts AS (
    SELECT *, ${HISTOGRAM_BUCKET_SQL('response_time_ms')} AS latency_bucket FROM inserted
  ),
  minute_rows AS (
    SELECT ${dimensions('minute', 'created_at')}, count(*) AS requests,
      count(*) FILTER (WHERE error_code = 'RATE_LIMIT_EXCEEDED') AS rate_limited,
      count(*) FILTER (WHERE error_code = 'QUOTA_EXCEEDED') AS quota_exceeded,
      sum(response_time_ms::float8) AS response_time_sum_ms,
      max(response_time_ms) AS response_time_max_ms,
      ${HISTOGRAM_COLUMNS.map((column, i) => `count(*) FILTER (WHERE latency_bucket = ${i}) AS ${column}`).join(',\n      ')}
    FROM facts GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9
  ),
  hour_rows AS (
    SELECT ${dimensions('hour', 'bucket')}, ${ROLLUP_SUMS}
    FROM minute_rows GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9
  ),
  day_rows AS (
    SELECT ${dimensions('day', 'bucket')}, ${ROLLUP_SUMS}
    FROM hour_rows GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9
  ),
  -- the same summed over every dimension but the status, per organization and per key
  org_hour_rows AS (
    SELECT ${ORGANIZATION_KEY}, ${ROLLUP_SUMS} FROM hour_rows GROUP BY ${ORGANIZATION_KEY}
  ),
  org_day_rows AS (
    SELECT ${ORGANIZATION_KEY}, ${ROLLUP_SUMS} FROM day_rows GROUP BY ${ORGANIZATION_KEY}
  ),
  key_hour_rows AS (
    SELECT ${KEY_KEY}, ${ROLLUP_SUMS} FROM hour_rows WHERE api_key_id IS NOT NULL
    GROUP BY ${KEY_KEY}
  ),
  key_day_rows AS (
    SELECT ${KEY_KEY}, ${ROLLUP_SUMS} FROM day_rows WHERE api_key_id IS NOT NULL
    GROUP BY ${KEY_KEY}
  ),
  ${upsert('minute', 'minute_rows', ROLLUP_KEY)},
  ${upsert('hour', 'hour_rows', ROLLUP_KEY)},
  ${upsert('day', 'day_rows', ROLLUP_KEY)},
  ${upsert('org_hour', 'org_hour_rows', ORGANIZATION_KEY)},
  ${upsert('org_day', 'org_day_rows', ORGANIZATION_KEY)},
  ${upsert('key_hour', 'key_hour_rows', KEY_KEY)},
  ${upsert('key_day', 'key_day_rows', KEY_KEY)}
  SELECT (SELECT count(*) FROM inserted)::int AS inserted,
    (SELECT count(*) FROM minute_upserted)::int AS minute_rows,
    (SELECT count(*) FROM hour_upserted)::int AS hour_rows,
    (SELECT count(*) FROM day_upserted)::int AS day_rows,
    (SELECT count(*) FROM org_hour_upserted)::int AS org_hour_rows,
    (SELECT count(*) FROM org_day_upserted)::int AS org_day_rows,
    (SELECT count(*) FROM key_hour_upserted)::int AS key_hour_rows,
    (SELECT count(*) FROM key_day_upserted)::int AS key_day_rows`;
