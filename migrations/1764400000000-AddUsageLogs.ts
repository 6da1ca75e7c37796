import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * usage_logs: one row per request that carried a credential (API.md, usage-logs), written by
 * the worker from the api's usage records. Partitioned by day on created_at (when the request
 * arrived) so retention (USAGE_RETENTION_DAYS) drops whole partitions;
 * ensure_day_partition('usage_logs', day) creates a day's partition, the retention job keeps
 * the next days created, and a DEFAULT partition catches anything outside them.
 *
 * Exactly once: the primary key is (created_at, id), where `id` is the record's own UUID,
 * made by the api process once per request, and created_at is fixed in the record too, so a
 * batch delivered again (a worker killed mid-batch) conflicts row for row in the same
 * partition and inserts nothing. A partitioned table's unique index must contain the
 * partition key, hence created_at in it. request_id is not the key: a client may send its own
 * X-Request-Id, and sending the same one twice must not make a served request disappear.
 *
 * ensure_day_partition(parent, day) creates `<parent>_YYYYMMDD` for any table partitioned by
 * day on a timestamptz (usage_logs, and rate_limit_events, whose own function it generalises).
 */
export class AddUsageLogs1764400000000 implements MigrationInterface {
  name = 'AddUsageLogs1764400000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    // Analytics rows: no foreign keys, like the audit trail (a deleted key's usage stays).
    await queryRunner.query(`
      CREATE TABLE usage_logs (
        id uuid NOT NULL,
        created_at timestamptz NOT NULL,
        organization_id uuid NOT NULL,
        api_key_id uuid,
        user_id uuid,
        project_id integer,
        method text NOT NULL,
        path text NOT NULL,
        -- the matched route template (/api/v1/keys/:id)
        route text NOT NULL,
        status smallint NOT NULL,
        -- from the request's arrival to the response's end
        response_time_ms real NOT NULL,
        request_bytes integer NOT NULL,
        response_bytes integer NOT NULL,
        ip text,
        user_agent text,
        api_version text,
        -- the error body's code (RATE_LIMIT_EXCEEDED, QUOTA_EXCEEDED...), null on success
        error_code text,
        request_id text NOT NULL,
        CHECK (num_nonnulls(api_key_id, user_id) = 1),
        PRIMARY KEY (created_at, id)
      ) PARTITION BY RANGE (created_at)`);
    await queryRunner.query('CREATE TABLE usage_logs_default PARTITION OF usage_logs DEFAULT');
    await queryRunner.query(
      'CREATE INDEX usage_logs_organization_idx ON usage_logs (organization_id, created_at)',
    );
    await queryRunner.query(`
      CREATE FUNCTION ensure_day_partition(parent text, day date) RETURNS void
      LANGUAGE plpgsql AS $$
      DECLARE
        name text := format('%s_%s', parent, to_char(day, 'YYYYMMDD'));
      BEGIN
        IF to_regclass(name) IS NULL THEN
          EXECUTE format(
            'CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)',
            name, parent, day::timestamp AT TIME ZONE 'UTC',
            (day + 1)::timestamp AT TIME ZONE 'UTC');
        END IF;
      END $$`);
    await queryRunner.query(`
      SELECT ensure_day_partition('usage_logs', (now() AT TIME ZONE 'UTC')::date + d)
      FROM generate_series(-1, 7) AS d`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE usage_logs');
    await queryRunner.query('DROP FUNCTION ensure_day_partition(text, date)');
  }
}
