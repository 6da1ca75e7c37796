/**
 * Takes up to $1 envelope_pending rows, oldest first, skipping rows another worker holds,
 * and deletes them (the caller's transaction commits the delete with the events, or rolls
 * both back). Returns each with its envelope (null columns when retention dropped it), and
 * received_at as text too: a JS Date drops the microseconds, and events must carry their
 * envelope's received_at exactly (it is half of the envelope's key).
 */
export const TAKE_PENDING = `
  WITH taken AS (
    SELECT ctid FROM envelope_pending
    ORDER BY received_at
    LIMIT $1
    FOR UPDATE SKIP LOCKED
  ), deleted AS (
    DELETE FROM envelope_pending p USING taken WHERE p.ctid = taken.ctid
    RETURNING p.envelope_id, p.received_at
  )
  SELECT d.envelope_id, d.received_at, d.received_at::text AS received_at_exact, e.organization_id, e.project_id, e.event_id, e.body
  FROM deleted d
  LEFT JOIN envelopes e ON e.id = d.envelope_id AND e.received_at = d.received_at`;

/**
 * Inputs: $1 a jsonb array of issues (one per project and fingerprint hash, with the
 * batch's first and last received_at and its last level). Upserted in (project_id,
 * fingerprint_hash) order, so two workers lock shared issues in the same order and never
 * deadlock; an issue of a project deleted since its envelope arrived is skipped (its events
 * too: the caller writes only events whose issue comes back). The count is added by
 * INSERT_EVENTS, from the events actually inserted.
 * last_notified_at is set to now when it is null or a minute old: `notify` says the caller
 * writes this issue's `envelope.received` webhook event (at most one a minute per issue).
 * Outputs: id, project_id, fingerprint_hash, whether the issue is new, and notify.
 */
export const UPSERT_ISSUES = `
  INSERT INTO event_issues AS i (organization_id, project_id, fingerprint_hash, fingerprint,
    title, level, event_count, first_seen_at, last_seen_at, last_notified_at)
  SELECT r.organization_id, r.project_id, r.fingerprint_hash,
    ARRAY(SELECT jsonb_array_elements_text(r.fingerprint)), r.title, r.level, 0,
    r.first_seen_at, r.last_seen_at, now()
  FROM jsonb_to_recordset($1::jsonb) AS r(organization_id uuid, project_id integer,
    fingerprint_hash text, fingerprint jsonb, title text, level text,
    first_seen_at timestamptz, last_seen_at timestamptz)
  WHERE EXISTS (SELECT 1 FROM projects p WHERE p.id = r.project_id)
  ORDER BY r.project_id, r.fingerprint_hash
  ON CONFLICT (project_id, fingerprint_hash) DO UPDATE SET
    first_seen_at = LEAST(i.first_seen_at, excluded.first_seen_at),
    last_seen_at = GREATEST(i.last_seen_at, excluded.last_seen_at),
    level = excluded.level,
    last_notified_at = CASE
      WHEN i.last_notified_at IS NULL OR i.last_notified_at <= now() - interval '1 minute'
      THEN now() ELSE i.last_notified_at END
  RETURNING i.id, i.project_id, i.fingerprint_hash, i.title, i.level, (i.xmax = 0) AS created,
    i.last_notified_at = now() AS notify`;

/**
 * Inputs: $1 a jsonb array of events rows. Inserts them (a row already there, from an
 * envelope parsed twice, is left alone) and adds the inserted ones to their issues' counts
 * (rows UPSERT_ISSUES locked already, in this transaction).
 */
export const INSERT_EVENTS = `
  WITH inserted AS (
    INSERT INTO events (id, received_at, organization_id, project_id, envelope_id, issue_id,
      timestamp, level, message, exception_type, exception_value, release, environment,
      platform, tags, user_context, fingerprint)
    SELECT r.id, r.received_at, r.organization_id, r.project_id, r.envelope_id, r.issue_id,
      r.timestamp, r.level, r.message, r.exception_type, r.exception_value, r.release,
      r.environment, r.platform, r.tags, r.user_context,
      ARRAY(SELECT jsonb_array_elements_text(r.fingerprint))
    FROM jsonb_to_recordset($1::jsonb) AS r(id uuid, received_at timestamptz,
      organization_id uuid, project_id integer, envelope_id uuid, issue_id bigint,
      timestamp timestamptz, level text, message text, exception_type text,
      exception_value text, release text, environment text, platform text, tags jsonb,
      user_context jsonb, fingerprint jsonb)
    ON CONFLICT DO NOTHING
    RETURNING issue_id
  ), counts AS (
    SELECT issue_id, count(*) AS n FROM inserted GROUP BY issue_id
  )
  UPDATE event_issues i SET event_count = i.event_count + counts.n
  FROM counts WHERE i.id = counts.issue_id`;

/**
 * Sets aside the oldest pending envelope (its row deleted, the envelope itself kept): run
 * only when a step of that one envelope was refused by Postgres for its data, again and again.
 */
export const DROP_OLDEST_PENDING = `
  DELETE FROM envelope_pending WHERE ctid = (
    SELECT ctid FROM envelope_pending ORDER BY received_at LIMIT 1 FOR UPDATE SKIP LOCKED)
  RETURNING envelope_id`;
