import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A project's own bound on Sentry envelope ingestion (API.md, Envelopes): `{window, limit}`,
 * null for the default (src/modules/projects/ingest-rate-limit.ts). Set with PATCH
 * /api/v1/projects/{id}; enforced per project by the Redis limiter.
 */
export class AddProjectIngestRateLimit1765200000000 implements MigrationInterface {
  name = 'AddProjectIngestRateLimit1765200000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE projects ADD COLUMN ingest_rate_limit jsonb');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE projects DROP COLUMN ingest_rate_limit');
  }
}
