/**
 * The lifecycle job's statements (WebhookLifecycleRepository).
 *
 * EMIT_ONCE: $1 = jsonb array of {dedupe_key, organization_id, type, payload}, $2 = now. Records
 * each event's key and writes its outbox row in one statement; a key already recorded (an
 * earlier run) writes nothing. Organizations deleted meanwhile are skipped.
 */
export const EMIT_ONCE = `
  WITH input AS (
    SELECT * FROM jsonb_to_recordset($1::jsonb)
      AS e(dedupe_key text, organization_id uuid, type text, payload jsonb)
    WHERE EXISTS (SELECT 1 FROM organizations o WHERE o.id = e.organization_id)
  ), fresh AS (
    INSERT INTO webhook_lifecycle_events (dedupe_key, organization_id, created_at)
    SELECT dedupe_key, organization_id, $2 FROM input
    ON CONFLICT (dedupe_key) DO NOTHING
    RETURNING dedupe_key
  )
  INSERT INTO outbox_events (organization_id, type, payload, created_at)
  SELECT i.organization_id, i.type, i.payload, $2
  FROM input i JOIN fresh f USING (dedupe_key)`;

/**
 * KEYS_EXPIRING_OR_EXPIRED: $1 = now, $2 = how far ahead (expiring), $3 = how far back (expired).
 * Live keys (not revoked, not deleted) whose expiry falls in [now - $3, now + $2].
 */
export const KEYS_EXPIRING_OR_EXPIRED = `
  SELECT id, organization_id, name, prefix, expires_at
  FROM api_keys
  WHERE revoked_at IS NULL AND deleted_at IS NULL AND expires_at IS NOT NULL
    AND expires_at > $1::timestamptz - $3::interval AND expires_at <= $1::timestamptz + $2::interval`;

/**
 * FAILING_ENDPOINTS: $1 = now, $2 = the streak that disables (an interval). Active endpoints
 * whose first failed attempt after their last success (or ever) is at least $2 old: every
 * attempt since has failed.
 */
export const FAILING_ENDPOINTS = `
  SELECT w.id, w.organization_id, f.first_failure
  FROM webhook_endpoints w
  CROSS JOIN LATERAL (
    SELECT min(d.created_at) AS first_failure FROM webhook_deliveries d
    WHERE d.webhook_id = w.id AND d.status = 'failed'
      AND d.created_at > coalesce((
        SELECT max(s.created_at) FROM webhook_deliveries s
        WHERE s.webhook_id = w.id AND s.status = 'succeeded'), '-infinity')
  ) f
  WHERE w.active AND f.first_failure <= $1::timestamptz - $2::interval`;
