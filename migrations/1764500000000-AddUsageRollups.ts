import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The latency histogram, one bigint column per bucket (latency_h00..latency_h54; what each
 * holds: src/modules/usage/latency-histogram.ts). Columns rather than an array: summing 55
 * columns over 72,000 rows takes Postgres's own sum() ~0.1 s, adding arrays element-wise in
 * a SQL aggregate ~1.5 s.
 */
const HISTOGRAM_COLUMNS = Array.from(
  { length: 55 },
  (_, i) => `latency_h${String(i).padStart(2, '0')} bigint NOT NULL`,
).join(',\n  ');

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
  ${HISTOGRAM_COLUMNS},
  -- NULLS NOT DISTINCT: a user's row (api_key_id null) is one row, not one per upsert
  UNIQUE NULLS NOT DISTINCT (organization_id, bucket, api_key_id, user_id, project_id, method,
    route, api_version, status)`;

/**
 * Usage rollups (issue 11): per minute (kept 7 days), hour and day (kept 13 months), by
 * organization, key, user, project, method + route, api version and status, with counts,
 * summed and maximum latency and a fixed log-scale latency histogram (a column per bucket). Written only by the
 * usage ingestion statement (usage-logs.sql.ts), from the rows it inserted, in the same
 * statement, so each request is counted once however often its batch is delivered.
 *
 * The minute table is partitioned by day (ensure_day_partition; retention drops days); the
 * hour and day tables are small enough for retention to delete by `bucket` (a BRIN index).
 */
export class AddUsageRollups1764500000000 implements MigrationInterface {
  name = 'AddUsageRollups1764500000000';

  async up(queryRunner: QueryRunner): Promise<void> {
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
  }
}
