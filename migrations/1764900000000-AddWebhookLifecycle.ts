import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The lifecycle events the worker's scheduled job has written (one row per event and
 * organization, by a key naming what it was about), so a re-run never sends one twice; and
 * the indexes the webhooks retention purge deletes by.
 */
export class AddWebhookLifecycle1764900000000 implements MigrationInterface {
  name = 'AddWebhookLifecycle1764900000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE webhook_lifecycle_events (
        dedupe_key text PRIMARY KEY,
        organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(
      'CREATE INDEX outbox_events_dispatched_idx ON outbox_events (dispatched_at) WHERE dispatched_at IS NOT NULL',
    );
    await queryRunner.query(
      'CREATE INDEX webhook_deliveries_created_idx ON webhook_deliveries (created_at)',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP INDEX webhook_deliveries_created_idx');
    await queryRunner.query('DROP INDEX outbox_events_dispatched_idx');
    await queryRunner.query('DROP TABLE webhook_lifecycle_events');
  }
}
