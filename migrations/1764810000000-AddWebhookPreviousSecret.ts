import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A rotated webhook endpoint's previous secret (sealed like the current one) and until when it
 * keeps signing alongside the new one.
 */
export class AddWebhookPreviousSecret1764810000000 implements MigrationInterface {
  name = 'AddWebhookPreviousSecret1764810000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE webhook_endpoints
        ADD COLUMN previous_secret_sealed text,
        ADD COLUMN previous_secret_expires_at timestamptz,
        ADD CONSTRAINT webhook_endpoints_previous_secret_check
          CHECK ((previous_secret_sealed IS NULL) = (previous_secret_expires_at IS NULL))`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE webhook_endpoints
        DROP CONSTRAINT webhook_endpoints_previous_secret_check,
        DROP COLUMN previous_secret_expires_at,
        DROP COLUMN previous_secret_sealed`);
  }
}
