import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The audit trail: append-only and partitioned by month (native partitioning), so retention
 * drops whole partitions. A trigger rejects UPDATE, DELETE and TRUNCATE unless the session
 * has set `gatehouse.audit_purge = 'on'`, which only the retention purge does.
 * audit_ensure_partition(month) creates a month's partition; the purge keeps the next
 * months created, and a DEFAULT partition catches anything outside them.
 */
export class AddAuditLog1764036060000 implements MigrationInterface {
  name = 'AddAuditLog1764036060000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE audit_log (
        id uuid NOT NULL DEFAULT gen_random_uuid(),
        organization_id uuid,
        action text NOT NULL,
        actor_type text NOT NULL CHECK (actor_type IN ('user', 'api_key', 'anonymous', 'system')),
        actor_id text,
        target_type text,
        target_id text,
        ip text,
        user_agent text,
        request_id text,
        changes jsonb,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (id, created_at)
      ) PARTITION BY RANGE (created_at)`);
    await queryRunner.query('CREATE TABLE audit_log_default PARTITION OF audit_log DEFAULT');
    await queryRunner.query(
      'CREATE INDEX audit_log_org_created_idx ON audit_log (organization_id, created_at DESC)',
    );
    await queryRunner.query(`
      CREATE FUNCTION audit_ensure_partition(month date) RETURNS void LANGUAGE plpgsql AS $$
      DECLARE
        start_at date := date_trunc('month', month)::date;
        name text := format('audit_log_%s', to_char(start_at, 'YYYY_MM'));
      BEGIN
        IF to_regclass(name) IS NULL THEN
          EXECUTE format(
            'CREATE TABLE %I PARTITION OF audit_log FOR VALUES FROM (%L) TO (%L)',
            name, start_at, (start_at + interval '1 month')::date);
        END IF;
      END $$`);
    await queryRunner.query(`
      SELECT audit_ensure_partition((date_trunc('month', now()) + make_interval(months => m))::date)
      FROM generate_series(-1, 3) AS m`);
    await queryRunner.query(`
      CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF current_setting('gatehouse.audit_purge', true) = 'on' THEN
          RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NULL END;
        END IF;
        RAISE EXCEPTION 'audit_log is append-only (% rejected)', TG_OP USING ERRCODE = 'insufficient_privilege';
      END $$`);
    await queryRunner.query(`
      CREATE TRIGGER audit_log_no_update_delete BEFORE UPDATE OR DELETE ON audit_log
      FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()`);
    await queryRunner.query(`
      CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
      FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE audit_log');
    await queryRunner.query('DROP FUNCTION audit_log_append_only()');
    await queryRunner.query('DROP FUNCTION audit_ensure_partition(date)');
  }
}
