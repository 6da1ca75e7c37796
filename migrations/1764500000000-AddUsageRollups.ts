import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Latency histogram length: src/modules/usage/latency-histogram.ts says what each bucket holds. */
const HISTOGRAM_BUCKETS = 55;

/** The dimensions and measures every rollup table has; `bucket` is the start of its minute, hour or day. */
const ROLLUP_COLUMNS = `
  bucket timestamptz NOT NULL,
  organization_id uuid NOT NULL,
  api_key_id uuid,
  user_id uuid,
  project_id integer,
  method text NOT NULL,
  route text NOT NULL,
  api_version text,
  -- the exact status (its class is status / 100): a status filter then equals usage_logs'
  status smallint NOT NULL,
  requests bigint NOT NULL,
  -- rejections of the limiter, their own series (error_code RATE_LIMIT_EXCEEDED, QUOTA_EXCEEDED)
  rate_limited bigint NOT NULL,
  quota_exceeded bigint NOT NULL,
  response_time_sum_ms double precision NOT NULL,
  response_time_max_ms real NOT NULL,
  latency_histogram bigint[] NOT NULL CHECK (cardinality(latency_histogram) = ${HISTOGRAM_BUCKETS}),
  -- NULLS NOT DISTINCT: a user's row (api_key_id null) is one row, not one per upsert
  UNIQUE NULLS NOT DISTINCT (organization_id, bucket, api_key_id, user_id, project_id, method,
    route, api_version, status)`;

/**
 * Usage rollups (issue 11): per minute (kept 7 days), hour and day (kept 13 months), by
 * organization, key, user, project, method + route, api version and status, with counts,
 * summed and maximum latency and a fixed log-scale latency histogram. Written only by the
 * usage ingestion statement (usage-logs.sql.ts), from the rows it inserted, in the same
 * statement, so each request is counted once however often its batch is delivered.
 *
 * The minute table is partitioned by day (ensure_day_partition; retention drops days); the
 * hour and day tables are small enough for retention to delete by `bucket` (a BRIN index).
 * usage_histogram_add / usage_histogram_sum add histograms element-wise (upserts, readers).
 */
export class AddUsageRollups1764500000000 implements MigrationInterface {
  name = 'AddUsageRollups1764500000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE FUNCTION usage_histogram_add(a bigint[], b bigint[]) RETURNS bigint[]
      LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
      AS $$ SELECT ARRAY(SELECT x + y FROM unnest(a, b) AS u(x, y)) $$`);
    // STRICT transition function, no initial state: the first histogram is the state.
    await queryRunner.query(`
      CREATE AGGREGATE usage_histogram_sum(bigint[]) (
        sfunc = usage_histogram_add, stype = bigint[], combinefunc = usage_histogram_add,
        parallel = safe)`);
    await queryRunner.query(`
      CREATE TABLE usage_rollups_minute (${ROLLUP_COLUMNS}) PARTITION BY RANGE (bucket)`);
    await queryRunner.query(
      'CREATE TABLE usage_rollups_minute_default PARTITION OF usage_rollups_minute DEFAULT',
    );
    await queryRunner.query(`
      SELECT ensure_day_partition('usage_rollups_minute', (now() AT TIME ZONE 'UTC')::date + d)
      FROM generate_series(-1, 7) AS d`);
    for (const table of ['usage_rollups_hour', 'usage_rollups_day']) {
      await queryRunner.query(`CREATE TABLE ${table} (${ROLLUP_COLUMNS})`);
      await queryRunner.query(`CREATE INDEX ${table}_bucket_idx ON ${table} USING brin (bucket)`);
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE usage_rollups_day');
    await queryRunner.query('DROP TABLE usage_rollups_hour');
    await queryRunner.query('DROP TABLE usage_rollups_minute');
    await queryRunner.query('DROP AGGREGATE usage_histogram_sum(bigint[])');
    await queryRunner.query('DROP FUNCTION usage_histogram_add(bigint[], bigint[])');
  }
}
