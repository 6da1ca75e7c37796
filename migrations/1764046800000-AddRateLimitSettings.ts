import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Rate-limit policies set through PUT /api/v1/rate-limits, one row per scope: `global`,
 * `tier:<name>`, or `org:<uuid>` (that organization's endpoint overrides). Scopes without a
 * row use the defaults in code (API.md).
 */
export class AddRateLimitSettings1764046800000 implements MigrationInterface {
  name = 'AddRateLimitSettings1764046800000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE rate_limit_settings (
        scope text PRIMARY KEY CHECK (scope ~ '^(global|tier:[a-z]+|org:[0-9a-f-]{36})$'),
        organization_id uuid REFERENCES organizations(id) ON DELETE CASCADE,
        policies jsonb NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE rate_limit_settings');
  }
}
