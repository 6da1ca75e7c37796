import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * API versions and their lifecycle (beta -> stable -> deprecated -> sunset), read by every
 * api process into memory for the version guard; seeded with v1, the version that exists.
 * Usage per version and hour is written in batches by the api processes; it has no foreign
 * key so that deleting a version keeps its history.
 */
export class AddApiVersions1764050400000 implements MigrationInterface {
  name = 'AddApiVersions1764050400000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE api_versions (
        version text PRIMARY KEY CHECK (version ~ '^v[0-9]+$'),
        status text NOT NULL CHECK (status IN ('beta', 'stable', 'deprecated', 'sunset')),
        description text,
        released_at timestamptz,
        deprecated_at timestamptz,
        sunset_date timestamptz,
        migration_guide_url text,
        changelog text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`
      INSERT INTO api_versions (version, status, description, released_at)
      VALUES ('v1', 'stable', 'The first version of the Gatehouse API', now())`);
    await queryRunner.query(`
      CREATE TABLE api_version_usage (
        version text NOT NULL,
        hour timestamptz NOT NULL,
        requests bigint NOT NULL,
        PRIMARY KEY (version, hour)
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE api_version_usage');
    await queryRunner.query('DROP TABLE api_versions');
  }
}
