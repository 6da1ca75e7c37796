import type { UsageRecord } from './usage-record.js';
import { HISTOGRAM_BUCKET_SQL, HISTOGRAM_COLUMNS } from './latency-histogram.js';

/** A rollup row's key: the conflict target, and the order rows are upserted in. */
const ROLLUP_KEY =
  'organization_id, bucket, api_key_id, user_id, project_id, method, route, api_version, status';

const HISTOGRAM = HISTOGRAM_COLUMNS.join(', ');

/**
 * Measures of a coarser rollup from a finer one's rows, within one step. The counts' sums are
 * cast back to int: a step takes at most ROLLUP_CHUNK_ROWS (100,000) rows, so no count of it
 * comes near 2^31, and sum(int) is added in bigint arithmetic held by value, where sum(bigint)
 * is numeric (allocated, converted back): ~20% of a step's time. The rollup tables' columns
 * stay bigint; an int is widened as it is added to them.
 */
const ROLLUP_SUMS = sumsOf('::int');

/** A coarser rollup's measures summed from a finer one's rows, each count cast with `cast`. */
function sumsOf(cast: '::int' | ''): string {
  return `sum(requests)${cast} AS requests, sum(rate_limited)${cast} AS rate_limited,
  sum(quota_exceeded)${cast} AS quota_exceeded, sum(response_time_sum_ms) AS response_time_sum_ms,
  max(response_time_max_ms) AS response_time_max_ms,
  ${HISTOGRAM_COLUMNS.map((column) => `sum(${column})${cast} AS ${column}`).join(', ')}`;
}

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
  )`;

/** Dimensions of a rollup row, with its bucket truncated to `unit` (UTC). */
const dimensions = (unit: string, column: string) =>
  `date_trunc('${unit}', ${column}, 'UTC') AS bucket, organization_id, api_key_id, user_id,
   project_id, method, route, api_version, status`;

/** usage_logs' columns, in a usage record's field order (the COPY and the insert name them). */
export const USAGE_LOG_COLUMNS = [
  'id',
  'created_at',
  'organization_id',
  'api_key_id',
  'user_id',
  'project_id',
  'method',
  'path',
  'route',
  'status',
  'response_time_ms',
  'request_bytes',
  'response_bytes',
  'ip',
  'user_agent',
  'api_version',
  'error_code',
  'request_id',
  'limit_type',
  'limit_value',
  'current_usage',
] as const satisfies readonly (keyof UsageRecord)[];

/** What the rollups do not need of a row. */
const NOT_ROLLED_UP: readonly UsageLogColumn[] = [
  'id',
  'path',
  'request_bytes',
  'response_bytes',
  'ip',
  'user_agent',
  'request_id',
  'limit_type',
  'limit_value',
  'current_usage',
];

export type UsageLogColumn = (typeof USAGE_LOG_COLUMNS)[number];

/** What the rollups need of a row: usage_rollup_pending's columns. */
const PENDING_COLUMNS: readonly UsageLogColumn[] = USAGE_LOG_COLUMNS.filter(
  (column) => !NOT_ROLLED_UP.includes(column),
);

const LOG_COLUMNS = USAGE_LOG_COLUMNS.join(', ');
const PENDING = PENDING_COLUMNS.join(', ');

/**
 * usage_logs ingestion of a batch that may hold rows already there (the worker's second try,
 * after the COPY of the same batch met one: usage-logs.writer.ts). $1: a JSON array of
 * UsageRecord. A row already in usage_logs (the same record, from a batch delivered again)
 * is skipped by the primary key (created_at, id); only the rows this statement wrote go on
 * to usage_rollup_pending (usage_logs' trigger, migrations/1765400000000-PendUsageRowsByTrigger.ts),
 * so each request reaches the rollups once.
 * Returns one row: `inserted`, how many rows were new.
 */
export const INSERT_NEW_USAGE_LOGS = `
  WITH inserted AS (
    INSERT INTO usage_logs (${LOG_COLUMNS})
    SELECT ${LOG_COLUMNS}
    FROM jsonb_to_recordset($1::jsonb) AS r(id uuid, created_at timestamptz,
      organization_id uuid, api_key_id uuid, user_id uuid, project_id integer, method text,
      path text, route text, status smallint, response_time_ms real, request_bytes integer,
      response_bytes integer, ip text, user_agent text, api_version text, error_code text,
      request_id text, limit_type text, limit_value bigint, current_usage bigint)
    ON CONFLICT (created_at, id) DO NOTHING
    RETURNING 1
  )
  SELECT count(*)::int AS inserted FROM inserted`;

/**
 * Measures of a coarser rollup from a finer one's rows when folding an hour (FOLD_HOUR): sums
 * stay bigint, as an hour of one organization may count more than 2^31 requests.
 */
const FOLD_SUMS = sumsOf('');

/** The hour the coarse rollups are complete up to (migrations/1765400060000-FoldUsageRollupsHourly.ts). */
const MARK = '(SELECT folded_until FROM usage_rollup_folds)';

/**
 * After a CTE `hour_rows` (rows of usage_rollups_hour's shape): the same summed per day, and
 * per organization and per key, each added into its table, in the tables' order (hour, day,
 * org_hour, org_day, key_hour, key_day).
 */
const coarseUpserts = (sums: string) => `
  day_rows AS (
    SELECT ${dimensions('day', 'bucket')}, ${sums}
    FROM hour_rows GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9
  ),
  -- the same summed over every dimension but the status, per organization and per key
  org_hour_rows AS (
    SELECT ${ORGANIZATION_KEY}, ${sums} FROM hour_rows GROUP BY ${ORGANIZATION_KEY}
  ),
  org_day_rows AS (
    SELECT ${ORGANIZATION_KEY}, ${sums} FROM day_rows GROUP BY ${ORGANIZATION_KEY}
  ),
  key_hour_rows AS (
    SELECT ${KEY_KEY}, ${sums} FROM hour_rows WHERE api_key_id IS NOT NULL
    GROUP BY ${KEY_KEY}
  ),
  key_day_rows AS (
    SELECT ${KEY_KEY}, ${sums} FROM day_rows WHERE api_key_id IS NOT NULL
    GROUP BY ${KEY_KEY}
  ),
  ${upsert('hour', 'hour_rows', ROLLUP_KEY)},
  ${upsert('day', 'day_rows', ROLLUP_KEY)},
  ${upsert('org_hour', 'org_hour_rows', ORGANIZATION_KEY)},
  ${upsert('org_day', 'org_day_rows', ORGANIZATION_KEY)},
  ${upsert('key_hour', 'key_hour_rows', KEY_KEY)},
  ${upsert('key_day', 'key_day_rows', KEY_KEY)}`;

/**
 * The rollups' step (usage-rollups.ts): up to $1 rows taken out of usage_rollup_pending and
 * added to the minute rollups in the same statement (ON CONFLICT DO UPDATE: counts and sums
 * added, maxima kept, histograms added element-wise); the hour and day rollups are folded
 * from the minutes once an hour has ended (FOLD_HOUR), but a row of a minute before the mark
 * (late: its hour is folded already) is added to them here too.
 * A row is deleted and counted in one transaction, so it is rolled up once: two steps at once
 * never take the same row (the second's DELETE skips rows the first deleted). Rows are upserted
 * in key order, and the tables always in the order minute, hour, day, org_hour, org_day,
 * key_hour, key_day, so two steps never wait on each other in a cycle (no deadlock).
 * Returns one row: `taken`, how many rows were rolled up (each table's upsert runs whether or
 * not its CTE is read: Postgres always runs a data-modifying WITH).
 */
export const ROLL_UP_PENDING = `
  WITH taken AS (
    DELETE FROM usage_rollup_pending
    WHERE ctid = ANY (ARRAY(SELECT ctid FROM usage_rollup_pending LIMIT $1))
    RETURNING ${PENDING}
  ),
  -- the new rows counted per minute, dimensions and latency bucket: the 55 histogram columns
  -- are then filled from these fewer cells, not by testing each row against every bucket
  -- (int counts, and every sum of them cast back to int: ROLLUP_SUMS)
  cells AS (
    SELECT ${dimensions('minute', 'created_at')},
      ${HISTOGRAM_BUCKET_SQL('response_time_ms')} AS latency_bucket, count(*)::int AS requests,
      (count(*) FILTER (WHERE error_code = 'RATE_LIMIT_EXCEEDED'))::int AS rate_limited,
      (count(*) FILTER (WHERE error_code = 'QUOTA_EXCEEDED'))::int AS quota_exceeded,
      sum(response_time_ms::float8) AS response_time_sum_ms,
      max(response_time_ms) AS response_time_max_ms
    FROM taken GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10
  ),
  minute_rows AS (
    SELECT bucket, organization_id, api_key_id, user_id, project_id, method, route, api_version,
      status, sum(requests)::int AS requests, sum(rate_limited)::int AS rate_limited,
      sum(quota_exceeded)::int AS quota_exceeded, sum(response_time_sum_ms) AS response_time_sum_ms,
      max(response_time_max_ms) AS response_time_max_ms,
      ${HISTOGRAM_COLUMNS.map((column, i) => `coalesce(sum(requests) FILTER (WHERE latency_bucket = ${i}), 0)::int AS ${column}`).join(',\n      ')}
    FROM cells GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9
  ),
  ${upsert('minute', 'minute_rows', ROLLUP_KEY)},
  -- late rows only: the minutes before the mark, whose hours are folded already
  hour_rows AS (
    SELECT ${dimensions('hour', 'bucket')}, ${ROLLUP_SUMS}
    FROM minute_rows WHERE bucket < ${MARK} GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9
  ),
  ${coarseUpserts(ROLLUP_SUMS)}
  SELECT (SELECT count(*) FROM taken)::int AS taken`;

/**
 * The hour after the mark ($1, as the step read it) folded into the hour and day rollups (wide
 * and narrow) from the minute rollups, and the mark moved an hour on. Run by the rollup step,
 * in its transaction, once that hour has ended (and a grace for batches still on their way),
 * so no step adds minutes meanwhile. Returns one row: `folded_until`, the new mark, or null if
 * the mark was no longer $1 (the caller then rolls back: nothing was folded twice).
 */
export const FOLD_HOUR = `
  WITH hour_rows AS (
    SELECT ${dimensions('hour', 'bucket')}, ${FOLD_SUMS}
    FROM usage_rollups_minute
    WHERE bucket >= $1 AND bucket < $1::timestamptz + interval '1 hour'
    GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9
  ),
  ${coarseUpserts(FOLD_SUMS)},
  moved AS (
    UPDATE usage_rollup_folds SET folded_until = folded_until + interval '1 hour'
    WHERE folded_until = $1 RETURNING folded_until
  )
  SELECT (SELECT folded_until FROM moved) AS folded_until`;
