/**
 * Stores one accepted envelope and queues it for the worker, in one statement (so one
 * transaction and one round trip): the `envelopes` row and its `envelope_pending` row, with
 * the same received_at (Postgres's clock, the one every api process shares).
 * Inputs: $1 id (uuid), $2 organization_id, $3 project_id, $4 event_id (uuid or null),
 * $5 body (the decoded envelope, gzip), $6 body_bytes (decoded size), $7 item_count.
 * Output: one row, received_at.
 */
export const INSERT_ENVELOPE = `
  WITH envelope AS (
    INSERT INTO envelopes
      (id, received_at, organization_id, project_id, event_id, body, body_bytes, item_count)
    VALUES ($1, now(), $2, $3, $4, $5, $6, $7)
    RETURNING id, received_at
  ), pending AS (
    INSERT INTO envelope_pending (envelope_id, received_at)
    SELECT id, received_at FROM envelope
  )
  SELECT received_at FROM envelope`;
