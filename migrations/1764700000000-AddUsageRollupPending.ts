import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * usage_rollup_pending (issue 11, bench:usage-ingest): the usage rows ingested but not yet
 * added to the rollups. The worker writes each batch into usage_logs and, in the same
 * transaction, the rollup dimensions of the rows it inserted here; a periodic step takes rows
 * out of this table and adds them to the rollups in one transaction (usage-rollups.ts), so
 * each row is rolled up exactly once, and many batches' rows are grouped together (a minute's
 * traffic of one key and route is one upsert per rollup table, not one per batch).
 *
 * No index: rows are only appended and taken out whole. Autovacuum runs after every 10,000
 * deleted rows instead of a fifth of the table, which keeps a table that is emptied every
 * second small.
 *
 * down: rows still here are not in the rollups; their raw rows stay in usage_logs.
 */
export class AddUsageRollupPending1764700000000 implements MigrationInterface {
  name = 'AddUsageRollupPending1764700000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE usage_rollup_pending (
        created_at timestamptz NOT NULL,
        organization_id uuid NOT NULL,
        api_key_id uuid,
        user_id uuid,
        project_id integer,
        method text NOT NULL,
        route text NOT NULL,
        api_version text,
        status smallint NOT NULL,
        response_time_ms real NOT NULL,
        error_code text
      ) WITH (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 10000,
              autovacuum_vacuum_insert_scale_factor = 0,
              autovacuum_vacuum_insert_threshold = 10000)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE usage_rollup_pending');
  }
}
