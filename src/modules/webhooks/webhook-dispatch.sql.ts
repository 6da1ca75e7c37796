/**
 * The webhook relay's statements, run in one transaction by WebhookDispatchRepository.relay.
 *
 * CLAIM_PENDING: $1 = how many. The oldest undispatched outbox events, locked (events another
 * relay holds are skipped, so several workers relay side by side without sending twice), each
 * with the endpoints to deliver it to, in one round trip: one row per event and endpoint, or
 * one row with a null "webhookId" for an event no endpoint takes. The endpoint it names (a
 * test), else every active endpoint of its organization subscribed to its type or to `*`;
 * never the endpoint a `webhook.endpoint_disabled` is about (turned back on before the relay
 * ran, it is active again). Column names are WebhookDeliveryJob's.
 */
export const CLAIM_PENDING = `
  WITH claimed AS (
    SELECT id, organization_id, type, webhook_id, payload->>'webhook_id' AS about, created_at
    FROM outbox_events
    WHERE dispatched_at IS NULL
    ORDER BY created_at
    LIMIT $1
    FOR UPDATE SKIP LOCKED
  )
  SELECT c.organization_id AS "organizationId", c.id AS "eventId", w.id AS "webhookId"
  FROM claimed c
  LEFT JOIN webhook_endpoints w ON w.organization_id = c.organization_id AND w.active
    AND (c.webhook_id = w.id
      OR (c.webhook_id IS NULL AND (c.type = ANY(w.events) OR '*' = ANY(w.events))))
    AND NOT (c.type = 'webhook.endpoint_disabled' AND c.about = w.id::text)
  ORDER BY c.created_at, c.id, w.id`;

/** MARK_DISPATCHED: $1 = the claimed event ids, now handed to the queue. */
export const MARK_DISPATCHED = `
  UPDATE outbox_events SET dispatched_at = now() WHERE id = ANY($1::uuid[])`;

/**
 * RECORD_ATTEMPT: $1 organization, $2 endpoint, $3 event, $4 event type, $5 status,
 * $6 response status, $7 duration ms, $8 error, $9 response body. One attempt, numbered after
 * the attempts of this event to this endpoint so far, in one statement.
 */
export const RECORD_ATTEMPT = `
  INSERT INTO webhook_deliveries (organization_id, webhook_id, event_id, event_type, attempt,
    status, response_status, duration_ms, error, response_body)
  SELECT $1, $2, $3, $4, count(*) + 1, $5, $6, $7, $8, $9
  FROM webhook_deliveries
  WHERE organization_id = $1 AND event_id = $3 AND webhook_id = $2`;

/**
 * DELIVERY_TARGET: $1 organization, $2 endpoint, $3 event. What one delivery attempt needs of
 * the endpoint (active only) and of the event, in one round trip; no row when either is gone
 * or the endpoint is off. Column names are DeliveryTarget's.
 */
export const DELIVERY_TARGET = `
  SELECT w.id AS "webhookId", w.url, w.secret_sealed AS "secretSealed",
    w.previous_secret_sealed AS "previousSecretSealed",
    w.previous_secret_expires_at AS "previousSecretExpiresAt",
    e.id AS "eventId", e.type AS "eventType", e.created_at AS "createdAt", e.payload
  FROM webhook_endpoints w
  JOIN outbox_events e ON e.organization_id = w.organization_id AND e.id = $3
  WHERE w.organization_id = $1 AND w.id = $2 AND w.active`;
