import type { MigrationInterface, QueryRunner } from 'typeorm';

const sliding = (limit: number) => ({ limit, algorithm: 'sliding_window' });

/** API.md's defaults, as rows (the values in code are only a fallback for a missing row). */
const DEFAULTS: Record<string, object> = {
  global: { minute: sliding(100), hour: sliding(1_000) },
  'tier:free': { minute: sliding(100), hour: sliding(1_000) },
  'tier:standard': { minute: sliding(100), hour: sliding(1_000) },
  'tier:professional': { minute: sliding(1_000), hour: sliding(20_000) },
  'tier:enterprise': {},
};

/**
 * Limits follow the organization's plan: an organization's windows come from one set (its
 * own, else its tier's, else the global one). Adds organizations.rate_limits (the own set a
 * platform administrator gives it; null: none) and seeds the global and tier sets with the
 * new defaults where an installation has not set them. `down` removes the seeded rows that
 * are still as seeded, and the column.
 */
export class LimitsFollowThePlan1764300000000 implements MigrationInterface {
  name = 'LimitsFollowThePlan1764300000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE organizations ADD COLUMN rate_limits jsonb');
    for (const [scope, policies] of Object.entries(DEFAULTS)) {
      await queryRunner.query(
        `INSERT INTO rate_limit_settings (scope, organization_id, policies)
         VALUES ($1, NULL, $2::jsonb) ON CONFLICT (scope) DO NOTHING`,
        [scope, JSON.stringify(policies)],
      );
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const [scope, policies] of Object.entries(DEFAULTS)) {
      await queryRunner.query(
        'DELETE FROM rate_limit_settings WHERE scope = $1 AND policies = $2::jsonb',
        [scope, JSON.stringify(policies)],
      );
    }
    await queryRunner.query('ALTER TABLE organizations DROP COLUMN rate_limits');
  }
}
