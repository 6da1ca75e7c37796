import pg from 'pg';
import { HISTOGRAM_BUCKET_SQL, HISTOGRAM_COLUMNS } from '../src/modules/usage/latency-histogram.js';
import { MINUTE_ROLLUPS_DAYS } from '../src/modules/usage/usage-logs-retention.js';

/**
 * Seeds usage_logs and its rollups straight in SQL, one day at a time: generate_series rows
 * into the day's partition, then the hour rollup grouped from them (the same sums ingestion's
 * minute -> hour steps give: counts, latency sum and max, the histogram), the day rollup from
 * the hour rows (the hours before this one: the fold's mark is put at this hour), the narrow
 * (organization, key) rollups from those (usage_logs' rollup trigger off meanwhile), and the minute rollup only for the last MINUTE_ROLLUPS_DAYS days (what
 * retention keeps). Not through the ingestion statement: it runs ~10x slower than a set insert
 * and bench:usage-ingest measures it on its own.
 *
 * The spread: 200 organizations, `target` taking `share` of the traffic; 20 keys each (the
 * first ones busiest), 1 in 20 requests by a user instead; a key belongs to one of 3 projects
 * (or none) and mostly one api version; 30 routes, skewed; statuses mostly 200, some 201/204,
 * 4xx, 429 (RATE_LIMIT_EXCEEDED), 500; latencies log-normal-ish around 20 ms; a daily cycle.
 */
export interface SeedOptions {
  rows: number;
  days: number;
  /** The organization the bench reads; gets `share` of the rows. */
  target: string;
  share: number;
  /** Called after each day with the rows seeded so far. */
  progress?: (rows: number) => void;
}

/** A deterministic uuid from text (md5 hex). */
export const uuidOf = (text: string) =>
  `overlay(overlay(md5(${text}) placing '4' from 13) placing '8' from 17)::uuid`;

const histogram = HISTOGRAM_COLUMNS.map(
  (column, i) => `count(*) FILTER (WHERE latency_bucket = ${i}) AS ${column}`,
).join(',\n  ');

const DIMENSIONS =
  'organization_id, api_key_id, user_id, project_id, method, route, api_version, status';

const FROM_LOGS = (unit: string) => `
  SELECT date_trunc('${unit}', created_at, 'UTC') AS bucket, ${DIMENSIONS}, count(*) AS requests,
    count(*) FILTER (WHERE error_code = 'RATE_LIMIT_EXCEEDED') AS rate_limited,
    count(*) FILTER (WHERE error_code = 'QUOTA_EXCEEDED') AS quota_exceeded,
    sum(response_time_ms::float8) AS response_time_sum_ms, max(response_time_ms) AS response_time_max_ms,
    ${histogram}
  FROM (SELECT *, ${HISTOGRAM_BUCKET_SQL('response_time_ms')} AS latency_bucket
    FROM usage_logs WHERE created_at >= $1 AND created_at < $2) AS facts
  GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9`;

/** The narrow rollups' keys (migrations/1764600000000-AddNarrowUsageRollups.ts). */
const NARROW = {
  org: 'organization_id, bucket, status',
  key: 'organization_id, api_key_id, bucket, status',
};

const MEASURES = `requests, rate_limited, quota_exceeded, response_time_sum_ms, response_time_max_ms, ${HISTOGRAM_COLUMNS.join(', ')}`;

const SUMS = `sum(requests), sum(rate_limited), sum(quota_exceeded), sum(response_time_sum_ms),
  max(response_time_max_ms), ${HISTOGRAM_COLUMNS.map((c) => `sum(${c})`).join(', ')}`;

/**
 * $1 day start, $2 next day, $3 rows, $4 target organization, $5 its share. Row i of the day
 * arrives at i/$3 of it, bent into a daily cycle (busier mid-day).
 */
const INSERT_DAY = `
  INSERT INTO usage_logs (id, created_at, organization_id, api_key_id, user_id, project_id,
    method, path, route, status, response_time_ms, request_bytes, response_bytes, ip, user_agent,
    api_version, error_code, request_id)
  SELECT gen_random_uuid(), created_at, org, CASE WHEN by_user THEN NULL ELSE ${uuidOf("org::text || 'key' || k")} END,
    CASE WHEN by_user THEN ${uuidOf("org::text || 'user' || k")} END,
    CASE WHEN k % 4 = 3 THEN NULL ELSE k % 4 + 1 END,
    (ARRAY['GET','GET','GET','POST','PATCH','DELETE'])[r % 6 + 1],
    '/api/v1/resource' || r || '/' || (n % 1000), '/api/v1/resource' || r || '/:id', status,
    latency, 200 + n % 800, 300 + n % 5000, '10.0.' || k || '.' || (n % 250), 'bench-client/1.0',
    CASE WHEN k % 5 = 0 THEN '2025-06-01' ELSE '2026-01-01' END,
    CASE status WHEN 429 THEN 'RATE_LIMIT_EXCEEDED' WHEN 404 THEN 'NOT_FOUND' WHEN 500 THEN 'INTERNAL_ERROR'
      WHEN 400 THEN 'VALIDATION_ERROR' WHEN 401 THEN 'UNAUTHORIZED' END,
    'req-' || n
  FROM (
    SELECT n, $1::timestamptz + ($2::timestamptz - $1::timestamptz)
        * ((n::float8 / $3) - sin(2 * pi() * n / $3) / (2 * pi()) * 0.5) AS created_at,
      CASE WHEN random() < $5 THEN $4::uuid ELSE ${uuidOf("'org' || floor(random() * 199)::int")} END AS org,
      floor(20 * random() ^ 2)::int AS k,
      random() < 0.05 AS by_user,
      floor(30 * random() ^ 3)::int AS r,
      (CASE WHEN u < 0.82 THEN 200 WHEN u < 0.86 THEN 201 WHEN u < 0.88 THEN 204 WHEN u < 0.90 THEN 400
        WHEN u < 0.91 THEN 401 WHEN u < 0.95 THEN 404 WHEN u < 0.98 THEN 429 ELSE 500 END)::smallint AS status,
      (exp(ln(20) + 0.9 * sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random())))::real AS latency
    FROM (SELECT n, random() AS u FROM generate_series(0, $3 - 1) AS n) AS g
  ) AS s`;

export async function seedUsage(databaseUrl: string, options: SeedOptions): Promise<void> {
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    await db.query('SET synchronous_commit = off');
    await db.query("SET work_mem = '256MB'");
    await db.query('SELECT setseed(0.11)');
    // The rollups are seeded below: the rows are not handed on to the ingestion's rollup step.
    await db.query('ALTER TABLE usage_logs DISABLE TRIGGER usage_logs_pend_rollups');
    const today = new Date(Math.floor(Date.now() / 86_400_000) * 86_400_000);
    // The hour and day rollups hold the hours before this one, as ingestion's fold leaves them
    // (usage_rollup_folds): this hour's rows are read from the minute rollups through the views.
    const folded = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000);
    const perDay = Math.ceil(options.rows / options.days);
    let seeded = 0;
    for (let back = options.days - 1; back >= 0 && seeded < options.rows; back -= 1) {
      const start = new Date(today.getTime() - back * 86_400_000);
      const end = new Date(start.getTime() + 86_400_000);
      const rows = Math.min(perDay, options.rows - seeded);
      for (const table of ['usage_logs', 'usage_rollups_minute'])
        await db.query('SELECT ensure_day_partition($1, $2::date)', [
          table,
          start.toISOString().slice(0, 10),
        ]);
      // Today's rows only up to now: the rollups are read up to now.
      const until = back === 0 ? new Date() : end;
      await db.query(INSERT_DAY, [start, until, rows, options.target, options.share]);
      await db.query(
        `INSERT INTO usage_rollups_hour (bucket, ${DIMENSIONS}, ${MEASURES}) ${FROM_LOGS('hour')}`,
        [start, end < folded ? end : folded],
      );
      await db.query(
        `INSERT INTO usage_rollups_day (bucket, ${DIMENSIONS}, ${MEASURES})
         SELECT date_trunc('day', bucket, 'UTC'), ${DIMENSIONS}, ${SUMS} FROM usage_rollups_hour
         WHERE bucket >= $1 AND bucket < $2 GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9`,
        [start, end],
      );
      for (const [shape, key] of Object.entries(NARROW))
        for (const grain of ['hour', 'day'])
          await db.query(
            `INSERT INTO usage_rollups_${shape}_${grain} (${key}, ${MEASURES})
             SELECT ${key}, ${SUMS} FROM usage_rollups_${grain}
             WHERE bucket >= $1 AND bucket < $2 ${shape === 'key' ? 'AND api_key_id IS NOT NULL' : ''}
             GROUP BY ${key}`,
            [start, end],
          );
      if (back < MINUTE_ROLLUPS_DAYS)
        await db.query(
          `INSERT INTO usage_rollups_minute (bucket, ${DIMENSIONS}, ${MEASURES}) ${FROM_LOGS('minute')}`,
          [start, end],
        );
      seeded += rows;
      options.progress?.(seeded);
    }
    await db.query('ANALYZE usage_logs');
    for (const table of ['minute', 'hour', 'day', 'org_hour', 'org_day', 'key_hour', 'key_day'])
      await db.query(`ANALYZE usage_rollups_${table}`);
    await db.query('ALTER TABLE usage_logs ENABLE TRIGGER usage_logs_pend_rollups');
    await db.query('UPDATE usage_rollup_folds SET folded_until = $1', [folded]);
  } finally {
    await db.end();
  }
}
