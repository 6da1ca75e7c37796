/**
 * usage_logs ingestion, run by the worker. $1: a JSON array of UsageRecord (one job's batch).
 * One statement inserts the whole batch; a row already there (the same record, from a batch
 * delivered again) is skipped by the primary key (created_at, id), and `inserted` holds only
 * the rows this statement wrote, so whatever is derived from it counts each request once.
 * Returns one row: `inserted`, how many rows were new.
 */
export const INSERT_USAGE_LOGS = `
  WITH inserted AS (
    INSERT INTO usage_logs (id, created_at, organization_id, api_key_id, user_id, project_id,
      method, path, route, status, response_time_ms, request_bytes, response_bytes, ip,
      user_agent, api_version, error_code, request_id)
    SELECT id, created_at, organization_id, api_key_id, user_id, project_id, method, path, route,
      status, response_time_ms, request_bytes, response_bytes, ip, user_agent, api_version,
      error_code, request_id
    FROM jsonb_to_recordset($1::jsonb) AS r(id uuid, created_at timestamptz,
      organization_id uuid, api_key_id uuid, user_id uuid, project_id integer, method text,
      path text, route text, status smallint, response_time_ms real, request_bytes integer,
      response_bytes integer, ip text, user_agent text, api_version text, error_code text,
      request_id text)
    ON CONFLICT (created_at, id) DO NOTHING
    RETURNING created_at, organization_id, api_key_id, user_id, project_id, route, api_version,
      status, response_time_ms, error_code
  )
  -- The rollups (per minute, hour and day) are to be added here, as further data-modifying
  -- CTEs reading \`inserted\`: in this statement, so only new rows are ever rolled up.
  SELECT count(*)::int AS inserted FROM inserted`;
