import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Webhook endpoints (their secrets sealed, never in plaintext), every delivery attempt, and on
 * outbox events the one endpoint an event is addressed to (a `webhook.test`), when it is not
 * for every subscribed endpoint of its organization.
 */
export class AddWebhooks1764800000000 implements MigrationInterface {
  name = 'AddWebhooks1764800000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE webhook_endpoints (
        id uuid PRIMARY KEY,
        organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
        url text NOT NULL,
        description text,
        events text[] NOT NULL CHECK (cardinality(events) > 0),
        active boolean NOT NULL DEFAULT true,
        disabled_reason text,
        secret_sealed text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(
      'CREATE INDEX webhook_endpoints_organization_idx ON webhook_endpoints (organization_id, created_at)',
    );
    await queryRunner.query(`
      CREATE TABLE webhook_deliveries (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
        webhook_id uuid NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
        event_id uuid NOT NULL,
        event_type text NOT NULL,
        attempt integer NOT NULL CHECK (attempt > 0),
        status text NOT NULL CHECK (status IN ('succeeded', 'failed')),
        response_status integer,
        duration_ms integer NOT NULL,
        error text,
        response_body text,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(
      'CREATE INDEX webhook_deliveries_webhook_idx ON webhook_deliveries (webhook_id, created_at)',
    );
    await queryRunner.query(
      'CREATE INDEX webhook_deliveries_event_idx ON webhook_deliveries (event_id, webhook_id)',
    );
    await queryRunner.query(
      'ALTER TABLE outbox_events ADD COLUMN webhook_id uuid REFERENCES webhook_endpoints(id) ON DELETE CASCADE',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE outbox_events DROP COLUMN webhook_id');
    await queryRunner.query('DROP TABLE webhook_deliveries');
    await queryRunner.query('DROP TABLE webhook_endpoints');
  }
}
