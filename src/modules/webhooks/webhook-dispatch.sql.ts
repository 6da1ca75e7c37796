/**
 * The webhook relay's statements, run in one transaction by WebhookDispatchRepository.relay.
 *
 * CLAIM_PENDING: $1 = how many. The oldest undispatched outbox events, locked; events another
 * relay holds are skipped, so several workers relay side by side without sending twice.
 */
export const CLAIM_PENDING = `
  SELECT id FROM outbox_events
  WHERE dispatched_at IS NULL
  ORDER BY created_at
  LIMIT $1
  FOR UPDATE SKIP LOCKED`;

/**
 * RECIPIENTS: $1 = the claimed event ids. One row per event and endpoint to deliver it to:
 * the endpoint it names (a test), else every active endpoint of its organization subscribed
 * to its type or to `*`; never the endpoint a `webhook.endpoint_disabled` is about (turned
 * back on before the relay ran, it is active again). Column names are WebhookDeliveryJob's.
 */
export const RECIPIENTS = `
  SELECT o.organization_id AS "organizationId", o.id AS "eventId", w.id AS "webhookId"
  FROM outbox_events o
  JOIN webhook_endpoints w ON w.organization_id = o.organization_id AND w.active
  WHERE o.id = ANY($1::uuid[])
    AND (o.webhook_id = w.id
      OR (o.webhook_id IS NULL AND (o.type = ANY(w.events) OR '*' = ANY(w.events))))
    AND NOT (o.type = 'webhook.endpoint_disabled' AND o.payload->>'webhook_id' = w.id::text)
  ORDER BY o.created_at, w.id`;

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
