import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * rate_limit_events and api_version_usage are readings of the usage pipeline now: a refused
 * request is its usage_logs row with the limit that refused it (1764710000000), and the
 * requests per version are the usage rollups' api_version. Both tables, and the partition
 * function of the first, are dropped; `down` recreates them as they were (1764300060000's
 * merged, day-partitioned rate_limit_events and 1764050400000's api_version_usage).
 * api_version_usage is refilled from the hour rollups (credentialed requests only: the old
 * counter also counted anonymous ones); rate_limit_events comes back empty, since usage_logs
 * does not keep which policy (limit_source) refused a request.
 */
export class DropLimitEventsAndVersionUsage1764710060000 implements MigrationInterface {
  name = 'DropLimitEventsAndVersionUsage1764710060000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE rate_limit_events');
    await queryRunner.query('DROP FUNCTION rate_limit_events_ensure_partition(date)');
    await queryRunner.query('DROP TABLE api_version_usage');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE api_version_usage (
        version text NOT NULL,
        hour timestamptz NOT NULL,
        requests bigint NOT NULL,
        PRIMARY KEY (version, hour)
      )`);
    await queryRunner.query(`
      INSERT INTO api_version_usage (version, hour, requests)
      SELECT api_version, bucket, sum(requests) FROM usage_rollups_hour
      WHERE api_version IS NOT NULL GROUP BY api_version, bucket`);
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
  }
}
