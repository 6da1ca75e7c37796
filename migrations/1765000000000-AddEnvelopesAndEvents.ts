import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Sentry-compatible ingestion (API.md, Envelopes):
 *
 * - `envelopes`: every accepted envelope, as received (decoded, then gzip-compressed), written
 *   by the api before it answers 200, so an accepted envelope is durable. Partitioned by month
 *   on received_at; retention (EVENT_RETENTION_DAYS) drops whole months.
 * - `envelope_pending`: the envelopes the worker has not parsed yet, inserted in the same
 *   transaction as the envelope. The worker deletes a row and writes the envelope's events in
 *   one transaction, so a worker killed mid-way leaves it pending (parsed again, never lost)
 *   and a parsed envelope is never parsed twice. No index: it is read whole, in arrival order.
 * - `events`: one row per event item of an envelope (errors and messages), with the fields
 *   the API filters and lists by; the raw item stays in its envelope. Partitioned by month on
 *   received_at (the envelope's), like envelopes, so both are dropped together.
 * - `event_issues`: events grouped by fingerprint per project (the SDK's fingerprint, else
 *   the exception type and top frames, else the message), with counts, first and last seen.
 *
 * No foreign keys from the partitioned tables (rows outlive a deleted project until retention,
 * like usage_logs). ensure_month_partition(parent, month) creates `<parent>_YYYYMM` for any
 * table partitioned by month on a timestamptz; the retention job keeps the next months created.
 */
export class AddEnvelopesAndEvents1765000000000 implements MigrationInterface {
  name = 'AddEnvelopesAndEvents1765000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE FUNCTION ensure_month_partition(parent text, month date) RETURNS void
      LANGUAGE plpgsql AS $$
      DECLARE
        start_at date := date_trunc('month', month)::date;
        name text := format('%s_%s', parent, to_char(start_at, 'YYYYMM'));
      BEGIN
        IF to_regclass(name) IS NULL THEN
          EXECUTE format(
            'CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)',
            name, parent, start_at::timestamp AT TIME ZONE 'UTC',
            (start_at + interval '1 month')::timestamp AT TIME ZONE 'UTC');
        END IF;
      END $$`);

    await queryRunner.query(`
      CREATE TABLE envelopes (
        id uuid NOT NULL,
        received_at timestamptz NOT NULL,
        organization_id uuid NOT NULL,
        project_id integer NOT NULL,
        -- the envelope header's event_id (what the ingest answered with), null without one
        event_id uuid,
        -- the decoded envelope (header and items, as sent), gzip-compressed
        body bytea NOT NULL,
        -- the decoded envelope's size in bytes, and its items
        body_bytes integer NOT NULL,
        item_count smallint NOT NULL,
        PRIMARY KEY (received_at, id)
      ) PARTITION BY RANGE (received_at)`);
    await queryRunner.query('CREATE TABLE envelopes_default PARTITION OF envelopes DEFAULT');

    await queryRunner.query(`
      CREATE TABLE envelope_pending (
        envelope_id uuid NOT NULL,
        received_at timestamptz NOT NULL
      )`);

    await queryRunner.query(`
      CREATE TABLE event_issues (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
        project_id integer NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
        -- hex SHA-256 of the grouping fingerprint's parts
        fingerprint_hash text NOT NULL,
        fingerprint text[] NOT NULL,
        -- the first event's exception "type: value", else its message
        title text NOT NULL,
        level text,
        event_count bigint NOT NULL DEFAULT 0,
        first_seen_at timestamptz NOT NULL,
        last_seen_at timestamptz NOT NULL,
        UNIQUE (project_id, fingerprint_hash)
      )`);
    await queryRunner.query(
      'CREATE INDEX event_issues_project_last_seen_idx ON event_issues (project_id, last_seen_at DESC)',
    );

    await queryRunner.query(`
      CREATE TABLE events (
        -- the event's event_id (the SDK's, else the envelope's, else made by the worker)
        id uuid NOT NULL,
        received_at timestamptz NOT NULL,
        organization_id uuid NOT NULL,
        project_id integer NOT NULL,
        envelope_id uuid NOT NULL,
        issue_id bigint NOT NULL,
        -- the event's own timestamp (when the SDK saw it)
        timestamp timestamptz NOT NULL,
        level text,
        message text,
        exception_type text,
        exception_value text,
        release text,
        environment text,
        platform text,
        tags jsonb NOT NULL DEFAULT '{}',
        user_context jsonb,
        fingerprint text[] NOT NULL,
        PRIMARY KEY (received_at, id)
      ) PARTITION BY RANGE (received_at)`);
    await queryRunner.query('CREATE TABLE events_default PARTITION OF events DEFAULT');
    await queryRunner.query(
      'CREATE INDEX events_project_received_idx ON events (project_id, received_at DESC)',
    );
    await queryRunner.query(
      'CREATE INDEX events_organization_received_idx ON events (organization_id, received_at DESC)',
    );
    await queryRunner.query('CREATE INDEX events_id_idx ON events (id)');
    await queryRunner.query(
      'CREATE INDEX events_issue_received_idx ON events (issue_id, received_at DESC)',
    );

    await queryRunner.query(`
      SELECT ensure_month_partition(parent, (date_trunc('month', now() AT TIME ZONE 'UTC') +
        make_interval(months => m))::date)
      FROM unnest(ARRAY['envelopes', 'events']) AS parent, generate_series(-1, 2) AS m`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('DROP TABLE events');
    await queryRunner.query('DROP TABLE event_issues');
    await queryRunner.query('DROP TABLE envelope_pending');
    await queryRunner.query('DROP TABLE envelopes');
    await queryRunner.query('DROP FUNCTION ensure_month_partition(text, date)');
  }
}
