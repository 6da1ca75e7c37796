import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The limit that refused a request, on its usage_logs row (null unless the request was
 * refused by a rate limit or a quota): `limit_type` is the window (second, minute, hour,
 * day) or `quota`, `limit_value` its limit and `current_usage` what was counted against it.
 * GET /analytics/rate-limits reads these rows; they replace rate_limit_events.
 *
 * Adding nullable columns without a default to the partitioned parent changes only the
 * catalog. The partial index holds only refused requests, so listing and counting an
 * organization's refusals newest first never reads its admitted traffic.
 */
export class AddUsageLogLimitColumns1764710000000 implements MigrationInterface {
  name = 'AddUsageLogLimitColumns1764710000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE usage_logs
        ADD COLUMN limit_type text,
        ADD COLUMN limit_value bigint,
        ADD COLUMN current_usage bigint`);
    await queryRunner.query(`
      CREATE INDEX usage_logs_limit_events_idx ON usage_logs (organization_id, created_at)
      WHERE limit_type IS NOT NULL`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP INDEX usage_logs_limit_events_idx');
    await queryRunner.query(`
      ALTER TABLE usage_logs
        DROP COLUMN limit_type,
        DROP COLUMN limit_value,
        DROP COLUMN current_usage`);
  }
}
