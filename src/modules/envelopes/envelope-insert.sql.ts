/** The columns each stored envelope gives, in the order of its parameters. */
export const ENVELOPE_PARAMETERS = 7;

/**
 * Stores `rows` accepted envelopes and queues them for the worker, in one statement (so one
 * transaction, one commit and one round trip): their `envelopes` rows and `envelope_pending`
 * rows, all with the same received_at (Postgres's clock, the one every api process shares).
 * Inputs, per envelope i (from 0), at $(7i+1) to $(7i+7): id (uuid), organization_id,
 * project_id, event_id (uuid or null), body (the decoded envelope, gzip; a binary parameter,
 * never hex in an array), body_bytes (decoded size), item_count.
 */
export function insertEnvelopes(rows: number): string {
  let sql = statements.get(rows);
  if (sql === undefined) {
    sql = buildInsert(rows);
    statements.set(rows, sql);
  }
  return sql;
}

/** insertEnvelopes' statement per row count (1 to ENVELOPE_INSERT_MAX_ROWS), built once. */
const statements = new Map<number, string>();

function buildInsert(rows: number): string {
  const values = Array.from({ length: rows }, (_, i) => {
    const p = (n: number) => `$${i * ENVELOPE_PARAMETERS + n}`;
    return `(${p(1)}::uuid, now(), ${p(2)}::uuid, ${p(3)}::int, ${p(4)}::uuid, ${p(5)}::bytea, ${p(6)}::int, ${p(7)}::smallint)`;
  });
  return `
  WITH envelope AS (
    INSERT INTO envelopes
      (id, received_at, organization_id, project_id, event_id, body, body_bytes, item_count)
    VALUES ${values.join(',\n      ')}
    RETURNING id, received_at
  )
  INSERT INTO envelope_pending (envelope_id, received_at)
  SELECT id, received_at FROM envelope`;
}
