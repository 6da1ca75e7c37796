import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * rate_limit_events grew by one row per refused request. Now one row counts the refusals of
 * one credential by one window (source and type) in one minute (`refusals`), upserted by the
 * worker's batch write, and the table is partitioned by day so retention
 * (RATE_LIMIT_EVENTS_RETENTION_DAYS) drops whole partitions.
 * rate_limit_events_ensure_partition(day) creates a day's partition; the retention job keeps
 * the next days created, and a DEFAULT partition catches anything outside them. Existing rows
 * are merged into the new shape; `down` expands them back to one row per refusal.
 */
export class MergeRateLimitEvents1764300060000 implements MigrationInterface {
  name = 'MergeRateLimitEvents1764300060000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE rate_limit_events RENAME TO rate_limit_events_unmerged');
    await queryRunner.query(
      'ALTER INDEX rate_limit_events_org_idx RENAME TO rate_limit_events_unmerged_org_idx',
    );
    // Analytics rows: no foreign keys, like the audit trail.
    await queryRunner.query(`
      CREATE TABLE rate_limit_events (
        organization_id uuid NOT NULL,
        api_key_id uuid,
        user_id uuid,
        -- api_key_id or user_id: who was refused, for the merge key
        credential_id uuid NOT NULL,
        limit_source text NOT NULL,
        limit_type text NOT NULL,
        minute timestamptz NOT NULL CHECK (minute = date_trunc('minute', minute)),
        refusals bigint NOT NULL CHECK (refusals > 0),
        limit_value bigint NOT NULL,
        current_usage bigint NOT NULL,
        method text NOT NULL,
        endpoint text NOT NULL,
        request_id text,
        first_at timestamptz NOT NULL,
        last_at timestamptz NOT NULL,
        PRIMARY KEY (organization_id, credential_id, limit_source, limit_type, minute)
      ) PARTITION BY RANGE (minute)`);
    await queryRunner.query(
      'CREATE TABLE rate_limit_events_default PARTITION OF rate_limit_events DEFAULT',
    );
    await queryRunner.query(
      'CREATE INDEX rate_limit_events_org_idx ON rate_limit_events (organization_id, minute)',
    );
    await queryRunner.query(`
      CREATE FUNCTION rate_limit_events_ensure_partition(day date) RETURNS void LANGUAGE plpgsql AS $$
      DECLARE
        name text := format('rate_limit_events_%s', to_char(day, 'YYYYMMDD'));
      BEGIN
        IF to_regclass(name) IS NULL THEN
          EXECUTE format(
            'CREATE TABLE %I PARTITION OF rate_limit_events FOR VALUES FROM (%L) TO (%L)',
            name, day::timestamp AT TIME ZONE 'UTC', (day + 1)::timestamp AT TIME ZONE 'UTC');
        END IF;
      END $$`);
    await queryRunner.query(`
      SELECT rate_limit_events_ensure_partition((now() AT TIME ZONE 'UTC')::date + d)
      FROM generate_series(-1, 7) AS d`);
    await queryRunner.query(`
      INSERT INTO rate_limit_events (organization_id, api_key_id, user_id, credential_id,
        limit_source, limit_type, minute, refusals, limit_value, current_usage, method, endpoint,
        request_id, first_at, last_at)
      SELECT organization_id, api_key_id, user_id, coalesce(api_key_id, user_id), limit_source,
        limit_type, date_trunc('minute', occurred_at), count(*),
        (array_agg(limit_value ORDER BY occurred_at DESC))[1], max(current_usage),
        (array_agg(method ORDER BY occurred_at DESC))[1],
        (array_agg(endpoint ORDER BY occurred_at DESC))[1],
        (array_agg(request_id ORDER BY occurred_at DESC))[1], min(occurred_at), max(occurred_at)
      FROM rate_limit_events_unmerged
      WHERE coalesce(api_key_id, user_id) IS NOT NULL
      GROUP BY organization_id, api_key_id, user_id, limit_source, limit_type,
        date_trunc('minute', occurred_at)`);
    await queryRunner.query('DROP TABLE rate_limit_events_unmerged');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE rate_limit_events RENAME TO rate_limit_events_merged');
    await queryRunner.query(
      'ALTER INDEX rate_limit_events_org_idx RENAME TO rate_limit_events_merged_org_idx',
    );
    await queryRunner.query(`
      CREATE TABLE rate_limit_events (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        organization_id uuid NOT NULL,
        api_key_id uuid,
        user_id uuid,
        method text NOT NULL,
        endpoint text NOT NULL,
        limit_type text NOT NULL,
        limit_source text NOT NULL,
        limit_value bigint NOT NULL,
        current_usage bigint NOT NULL,
        request_id text,
        occurred_at timestamptz NOT NULL
      )`);
    await queryRunner.query(
      'CREATE INDEX rate_limit_events_org_idx ON rate_limit_events (organization_id, occurred_at)',
    );
    await queryRunner.query(`
      INSERT INTO rate_limit_events (organization_id, api_key_id, user_id, method, endpoint,
        limit_type, limit_source, limit_value, current_usage, request_id, occurred_at)
      SELECT organization_id, api_key_id, user_id, method, endpoint, limit_type, limit_source,
        limit_value, current_usage, request_id, last_at
      FROM rate_limit_events_merged, generate_series(1, refusals)`);
    await queryRunner.query('DROP TABLE rate_limit_events_merged');
    await queryRunner.query('DROP FUNCTION rate_limit_events_ensure_partition(date)');
  }
}
