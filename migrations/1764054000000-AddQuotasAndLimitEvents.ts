import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Quotas (per API key, or per organization when api_key_id is null), the rate-limit events
 * recorded for each refused request (for analytics), and the event outbox that quota
 * warnings and exhaustion are written to until webhook delivery relays them.
 */
export class AddQuotasAndLimitEvents1764054000000 implements MigrationInterface {
  name = 'AddQuotasAndLimitEvents1764054000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE quotas (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
        api_key_id uuid REFERENCES api_keys(id) ON DELETE CASCADE,
        period text NOT NULL CHECK (period IN ('daily', 'monthly', 'custom')),
        max_requests bigint NOT NULL CHECK (max_requests > 0),
        period_start timestamptz,
        period_end timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CHECK (
          (period = 'custom' AND period_start IS NOT NULL AND period_end > period_start)
          OR (period <> 'custom' AND period_start IS NULL AND period_end IS NULL)
        )
      )`);
    await queryRunner.query(
      'CREATE INDEX quotas_organization_idx ON quotas (organization_id, created_at)',
    );
    await queryRunner.query('CREATE INDEX quotas_api_key_idx ON quotas (api_key_id)');
    // Append-only analytics rows: no foreign keys, like the audit trail.
    await queryRunner.query(`
      CREATE TABLE rate_limit_events (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        organization_id uuid NOT NULL,
        api_key_id uuid,
        user_id uuid,
        method text NOT NULL,
        endpoint text NOT NULL,
        limit_type text NOT NULL,
        limit_source text NOT NULL,
        limit_value bigint NOT NULL,
        current_usage bigint NOT NULL,
        request_id text,
        occurred_at timestamptz NOT NULL
      )`);
    await queryRunner.query(
      'CREATE INDEX rate_limit_events_org_idx ON rate_limit_events (organization_id, occurred_at)',
    );
    await queryRunner.query(`
      CREATE TABLE outbox_events (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
        type text NOT NULL,
        payload jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        dispatched_at timestamptz
      )`);
    await queryRunner.query(
      'CREATE INDEX outbox_events_pending_idx ON outbox_events (created_at) WHERE dispatched_at IS NULL',
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE outbox_events');
    await queryRunner.query('DROP TABLE rate_limit_events');
    await queryRunner.query('DROP TABLE quotas');
  }
}
